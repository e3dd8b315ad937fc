/* Names that share an address, as glibc's free has: release_it is the
 * default version (release_it@@ALIASES_1) and crelease_it@ALIASES_1 a compat
 * alias of it, whose name sorts first. */
volatile long released;

__attribute__((noinline)) void release_it(long x) { released = released + x; }

extern void crelease_compat(long x) __attribute__((alias("release_it")));
__asm__(".symver crelease_compat, crelease_it@ALIASES_1");
