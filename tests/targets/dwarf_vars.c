/* Variables, parameters and types at probe sites, for fetch arguments by
 * name (test_dwarf.cpp). One source, three builds: target-dwarf_vars-O0,
 * target-dwarf_vars (-O1 -fno-inline, the default) and target-dwarf_vars-O2
 * (inlining on). With ROUNDS = argv[1] (default 1), for each round r = 0, 1, ...:
 *   counter = r + 1                              (a global)
 *   handle(&req, r, "tag", &limit)               req.id = 100 + r, limit = 42
 *   classify(GREEN, true, 200, -3), classify(BLUE, false, 7, 9),
 *   classify((enum color)7, true, 0, 0)          7 is no enumerator
 *   consume(11, 22)
 *   scale_ptr(r, 2), caller_a(r), caller_b(r)    each runs the @scale line once:
 *                                                scale(r, 2), scale(r, 3), scale(r, 7)
 * then prints "done". With "wait" as argv[2] it then prints "ready PID" and
 * sleeps until killed (for -p). Lines the tests probe are marked @NAME. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROBED __attribute__((noinline, noipa))

volatile long sink;
long counter;

enum color { RED = 0, GREEN = 5, BLUE = -1 };

struct hdr {
  unsigned short kind;
  unsigned int len;
};

struct req {
  int id;
  struct hdr hdr;
  struct hdr *extra;
  char name[16];
  const char *path;
  long vals[4];
  enum color color;
  bool urgent;
  unsigned flag : 1; /* a bit-field: refused */
};

PROBED long handle(struct req *req, int count, const char *tag, const int *limit) {
  long total = 0;
  for (int i = 0; i < 4; i++) total += req->vals[i];
  if (count >= 0) {
    int inner = count * 3 + req->id;
    sink = inner; /* @inner */
  }
  return total + count + tag[0] + *limit;
}

PROBED int classify(enum color c, bool urgent, unsigned char level, short delta) {
  return (int)c + urgent + level + delta;
}

/* At -O2 `gone` lives in %rdi only until the call clobbers it: at @gone
 * DWARF says DW_OP_entry_value, which is "(optimized out)". */
PROBED long consume(long gone, long kept) {
  sink = gone;
  sink = classify(RED, false, 1, 1);
  return kept + sink; /* @gone */
}

/* Out of line (called through scale_ptr) and, at -O2, inlined into caller_a
 * and caller_b as well. */
int scale(int v, int k) {
  int scaled = v * k; /* @scale */
  return scaled + (int)sink;
}
int (*volatile scale_ptr)(int, int) = scale;

PROBED int caller_a(int r) { return scale(r, 3); }
PROBED int caller_b(int r) { return scale(r, 7) + 1; }

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 1;
  static struct hdr extra = {7, 4096};
  static int limit = 42;
  struct req req;
  memset(&req, 0, sizeof req);
  req.hdr.kind = 2;
  req.hdr.len = 512;
  req.extra = &extra;
  strcpy(req.name, "alpha");
  req.path = "/srv/data";
  for (int i = 0; i < 4; i++) req.vals[i] = 10 * (i + 1);
  req.color = BLUE;
  req.urgent = true;
  for (long r = 0; r < rounds; r++) {
    counter = r + 1;
    req.id = (int)(100 + r);
    sink += handle(&req, (int)r, "tag", &limit);
    sink += classify(GREEN, true, 200, -3);
    sink += classify(BLUE, false, 7, 9);
    sink += classify((enum color)7, true, 0, 0);
    sink += consume(11, 22);
    sink += scale_ptr((int)r, 2);
    sink += caller_a((int)r);
    sink += caller_b((int)r);
  }
  printf("done\n");
  fflush(stdout);
  if (argc > 2 && strcmp(argv[2], "wait") == 0) {
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    for (;;) pause();
  }
  return 0;
}
