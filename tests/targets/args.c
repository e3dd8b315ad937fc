/* Functions with known arguments, for fetch-argument tests. Each call below
 * happens ROUNDS times (argv[1], default 1), in this order per round:
 *   args7(1, -2, 3, 4, 5, 6, 7777)
 *   take_string(TEXT)          TEXT has a quote, newline, tab, backslash,
 *                              UTF-8, a lone 0xff byte, CR, DEL and 0x01
 *   take_string(300 x 'a')     longer than the 256-byte string limit
 *   take_string(EDGE)          "edge" ending right before an unmapped page
 *   take_struct(&full)         every field set (see struct rec)
 *   take_struct(&empty)        in == NULL, name == NULL
 *   take_ptr(NULL), take_ptr((char *)16), take_ptr(OK)  OK: "ok" in 8 bytes
 * Before the calls it prints "args7 0xADDR" and "pid PID" so tests can check
 * $pc and the pid. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PROBED __attribute__((noinline, noipa))

struct inner {
  long pad;
  long value; /* +8 */
};

struct rec {
  uint8_t u8;          /* +0  */
  uint16_t u16;        /* +2  */
  uint32_t u32;        /* +4  */
  uint64_t u64;        /* +8  */
  struct inner *in;    /* +16 */
  int32_t neg;         /* +24 */
  uint32_t hex;        /* +28 */
  const char *name;    /* +32 */
  const char *tail;    /* +40: name + 7 */
};

_Static_assert(__builtin_offsetof(struct rec, u16) == 2, "layout");
_Static_assert(__builtin_offsetof(struct rec, u32) == 4, "layout");
_Static_assert(__builtin_offsetof(struct rec, u64) == 8, "layout");
_Static_assert(__builtin_offsetof(struct rec, in) == 16, "layout");
_Static_assert(__builtin_offsetof(struct rec, neg) == 24, "layout");
_Static_assert(__builtin_offsetof(struct rec, hex) == 28, "layout");
_Static_assert(__builtin_offsetof(struct rec, name) == 32, "layout");
_Static_assert(__builtin_offsetof(struct rec, tail) == 40, "layout");

volatile long sink;

PROBED long args7(long a, long b, long c, long d, long e, long f, long g) { return a + b + c + d + e + f + g; }
PROBED int take_string(const char *s) { return (int)strlen(s); }
PROBED long take_struct(const struct rec *p) { return (long)p->u8 + p->neg; }
PROBED int take_ptr(const char *p) { return p != NULL; }

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 1;
  static const char text[] = "say \"hi\"\n\tback\\slash caf\xc3\xa9 \xff end\r\x7f\x01";
  char long_text[301];
  memset(long_text, 'a', 300);
  long_text[300] = 0;

  /* "edge\0" in the last 5 bytes of a page whose successor is unmapped. */
  long page = sysconf(_SC_PAGESIZE);
  char *two = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (two == MAP_FAILED) return 3;
  munmap(two + page, page);
  char *edge = two + page - 5;
  memcpy(edge, "edge", 5);

  struct inner in = {-1, 4242};
  static const char name[] = "struct-name";
  struct rec full = {0xfe, 0xbeef, 4000000000u, 0xfedcba9876543210ull, &in, -5, 0xdeadbeef, name, name + 7};
  struct rec empty = {1, 2, 3, 4, NULL, 6, 7, NULL, NULL};
  static const char ok[8] = "ok"; /* 8 bytes: "ok" and six NULs */

  printf("args7 %p\n", (void *)args7);
  printf("pid %d\n", getpid());
  fflush(stdout);
  for (long r = 0; r < rounds; r++) {
    sink += args7(1, -2, 3, 4, 5, 6, 7777);
    sink += take_string(text);
    sink += take_string(long_text);
    sink += take_string(edge);
    sink += take_struct(&full);
    sink += take_struct(&empty);
    sink += take_ptr(NULL);
    sink += take_ptr((const char *)16);
    sink += take_ptr(ok);
  }
  printf("done\n");
  return 0;
}
