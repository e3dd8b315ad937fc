/* Exported indirect functions whose implementations are local, in a library
 * stripped of .symtab (as Debian's libc is): nothing names the code the
 * calls reach. */
static long add_two_impl(long x) { return x + 2; }
static long add_three_impl(long x) { return x + 3; }

static long (*resolve_add_two(void))(long) { return add_two_impl; }
static long (*resolve_add_three(void))(long) { return add_three_impl; }

long lib_add_two(long x) __attribute__((ifunc("resolve_add_two")));
long lib_add_three(long x) __attribute__((ifunc("resolve_add_three")));
