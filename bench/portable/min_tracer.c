/* The reference a ptrace tracer is measured against in bench/vm: the least
 * work one stop per hit can take, on any ISA uptrace supports. It starts
 * TARGET with the ISA's breakpoint instruction over the nop that starts
 * SYMBOL (bench/portable/target.c's probed) and, on each hit:
 *   waitpid; PTRACE_GETREGSET (NT_PRSTATUS); pc = site + the nop's length;
 *   PTRACE_SETREGSET; PTRACE_CONT
 * One read and one write of the whole register set, as uptrace's boost hit
 * needs (it reads the registers to report the hit and writes pc to send the
 * thread to the slot), so the comparison is of everything else. The nop is not executed
 * anywhere: skipping it is its whole effect.
 *   min_tracer SYMBOL TARGET ARGS...
 * prints "min_tracer: N hits" on stderr at the end. Static in the VMs, where
 * it needs nothing but the kernel; SYMBOL is looked up in TARGET's .symtab. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

/* nop: the instruction probed() starts with; breakpoint: what replaces it, in the
 * low LEN bytes of the (little-endian) word; trap_pc_offset: where pc is at
 * the stop, from the site (x86's int3 has already executed). */
#if defined(__x86_64__)
typedef struct user_regs_struct named_regs_t;
#define PC(r) ((r).named.rip)
static const uint32_t nop = 0x90, breakpoint = 0xcc;
enum { LEN = 1, TRAP_PC_OFFSET = 1 };
#elif defined(__aarch64__)
typedef struct user_regs_struct named_regs_t;
#define PC(r) ((r).named.pc)
static const uint32_t nop = 0xd503201f, breakpoint = 0xd4200000; /* brk #0 */
enum { LEN = 4, TRAP_PC_OFFSET = 0 };
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
typedef struct pt_regs named_regs_t;
#define PC(r) ((r).named.nip)
static const uint32_t nop = 0x60000000, breakpoint = 0x7fe00008; /* ori 0,0,0; trap */
enum { LEN = 4, TRAP_PC_OFFSET = 0 };
#elif defined(__riscv) && __riscv_xlen == 64
#include <asm/ptrace.h> /* glibc's <sys/user.h> has no user_regs_struct here */
typedef struct user_regs_struct named_regs_t;
#define PC(r) ((r).named.pc)
static const uint32_t nop = 0x00000013, breakpoint = 0x00100073; /* addi x0,x0,0; ebreak */
enum { LEN = 4, TRAP_PC_OFFSET = 0 };
#else
#error "min_tracer: no breakpoint for this ISA"
#endif

/* The whole NT_PRSTATUS regset (elf_gregset_t: ELF_NGREG words, as uptrace
 * reads and writes it; ppc64le's pt_regs is 4 words shorter), pc by name. */
typedef union {
  elf_gregset_t words;
  named_regs_t named;
} regs_t;
_Static_assert(sizeof(regs_t) == sizeof(elf_gregset_t), "the named registers are a prefix of the regset");

static void die(const char *what) {
  fprintf(stderr, "min_tracer: %s\n", what);
  exit(1);
}

/* SYMBOL's st_value in PATH's .symtab, and the file address the first
 * PT_LOAD maps at its file offset 0 (to turn a mapping into a bias). */
static uint64_t symbol_value(const char *path, const char *symbol, int *is_dyn, uint64_t *first_load) {
  int fd = open(path, O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) die("cannot open the target");
  const unsigned char *f = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (f == MAP_FAILED) die("cannot map the target");
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f;
  if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64) die("target is not ELF64");
  *is_dyn = eh->e_type == ET_DYN;
  const Elf64_Phdr *ph = (const Elf64_Phdr *)(f + eh->e_phoff);
  *first_load = 0;
  for (int i = 0; i < eh->e_phnum; i++)
    if (ph[i].p_type == PT_LOAD) {
      *first_load = ph[i].p_vaddr - ph[i].p_offset;
      break;
    }
  const Elf64_Shdr *sh = (const Elf64_Shdr *)(f + eh->e_shoff);
  for (int i = 0; i < eh->e_shnum; i++) {
    if (sh[i].sh_type != SHT_SYMTAB) continue;
    const Elf64_Sym *sym = (const Elf64_Sym *)(f + sh[i].sh_offset);
    const char *names = (const char *)(f + sh[sh[i].sh_link].sh_offset);
    for (size_t k = 0; k < sh[i].sh_size / sizeof *sym; k++)
      if (strcmp(names + sym[k].st_name, symbol) == 0 && sym[k].st_value != 0) return sym[k].st_value;
  }
  die("symbol not in the target's .symtab");
  return 0;
}

/* Where PATH's first mapping starts minus its file offset: the load bias
 * plus first_load. */
static uint64_t mapping_base(pid_t pid, const char *path) {
  char maps[64], line[4096];
  snprintf(maps, sizeof maps, "/proc/%d/maps", pid);
  FILE *f = fopen(maps, "r");
  if (!f) die("cannot read the target's maps");
  size_t n = strlen(path);
  uint64_t base = 0;
  while (fgets(line, sizeof line, f)) {
    size_t len = strcspn(line, "\n");
    line[len] = 0;
    if (len < n || strcmp(line + len - n, path) != 0) continue;
    unsigned long start, offset;
    if (sscanf(line, "%lx-%*x %*s %lx", &start, &offset) == 2) base = start - offset;
    break;
  }
  fclose(f);
  if (!base) die("the target is not mapped");
  return base;
}

static void get_regs(pid_t tid, regs_t *r) {
  struct iovec iov = {r, sizeof *r};
  if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) != 0) die("PTRACE_GETREGSET failed");
}

static void set_regs(pid_t tid, regs_t *r) {
  struct iovec iov = {r, sizeof *r};
  if (ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRSTATUS, &iov) != 0) die("PTRACE_SETREGSET failed");
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: min_tracer SYMBOL TARGET ARGS...\n");
    return 2;
  }
  char real[4096];
  if (!realpath(argv[2], real)) die("cannot find the target");
  int is_dyn;
  uint64_t first_load;
  uint64_t value = symbol_value(real, argv[1], &is_dyn, &first_load);
  pid_t pid = fork();
  if (pid == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    execv(argv[2], argv + 2);
    _exit(127);
  }
  int status;
  if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) die("the target did not start"); /* its exec stop */
  /* The calls come from a thread of the target's: follow its threads. */
  ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL);
  const uint64_t site = is_dyn ? mapping_base(pid, real) - first_load + value : value;
  errno = 0;
  long word = ptrace(PTRACE_PEEKTEXT, pid, (void *)site, 0);
  const unsigned long mask = LEN == 4 ? 0xffffffffUL : 0xffUL;
  if (errno != 0 || ((unsigned long)word & mask) != nop) die("the symbol does not start with the ISA's nop");
  if (ptrace(PTRACE_POKETEXT, pid, (void *)site, (void *)(((unsigned long)word & ~mask) | breakpoint)) != 0)
    die("cannot write the breakpoint");
  ptrace(PTRACE_CONT, pid, 0, 0);
  long hits = 0;
  int exit_status = 1;
  for (;;) {
    pid_t tid = waitpid(-1, &status, __WALL);
    if (tid < 0) break;
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      if (tid == pid) {
        exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      continue;
    }
    int sig = WSTOPSIG(status);
    if (status >> 16 || sig == SIGSTOP) { /* clone events, new threads' first stops */
      ptrace(PTRACE_CONT, tid, 0, 0);
      continue;
    }
    if (sig == SIGTRAP) {
      regs_t r;
      get_regs(tid, &r);
      if (PC(r) == site + TRAP_PC_OFFSET) {
        PC(r) = site + LEN;
        set_regs(tid, &r);
        ptrace(PTRACE_CONT, tid, 0, 0);
        hits++;
        continue;
      }
    }
    ptrace(PTRACE_CONT, tid, 0, sig);
  }
  fprintf(stderr, "min_tracer: %ld hits\n", hits);
  return exit_status;
}
