/* The five search-tree helpers of elfutils 0.192 (Debian 13): its static
 * libelf.a and libdw.a call them, but no archive Debian ships defines them
 * (they live in elfutils' internal libeu), so a static link of uptrace
 * against them fails. Linked only when UPTRACE_ELFUTILS_SEARCH_SHIM is on
 * (the riscv64 cross build, tests/cross/run riscv64).
 *
 * elfutils' search_tree is { void *root; rwlock lock; }: these touch only
 * the root, the first member, so the lock's layout does not matter, and one
 * process-wide mutex stands in for the per-tree lock. */
#define _GNU_SOURCE /* tdestroy */
#include <pthread.h>
#include <search.h>

typedef struct {
  void *root;
} uptrace_search_tree;

typedef int (*uptrace_compare)(const void *, const void *);

static pthread_mutex_t uptrace_search_lock = PTHREAD_MUTEX_INITIALIZER;

void eu_search_tree_init(uptrace_search_tree *tree) { tree->root = NULL; }

void eu_search_tree_fini(uptrace_search_tree *tree, void (*free_node)(void *)) {
  tdestroy(tree->root, free_node);
  tree->root = NULL;
}

void *eu_tsearch(const void *key, uptrace_search_tree *tree, uptrace_compare compare) {
  pthread_mutex_lock(&uptrace_search_lock);
  void *found = tsearch(key, &tree->root, compare);
  pthread_mutex_unlock(&uptrace_search_lock);
  return found;
}

void *eu_tfind(const void *key, uptrace_search_tree *tree, uptrace_compare compare) {
  pthread_mutex_lock(&uptrace_search_lock);
  void *found = tfind(key, &tree->root, compare);
  pthread_mutex_unlock(&uptrace_search_lock);
  return found;
}

void *eu_tdelete(const void *key, uptrace_search_tree *tree, uptrace_compare compare) {
  pthread_mutex_lock(&uptrace_search_lock);
  void *parent = tdelete(key, &tree->root, compare);
  pthread_mutex_unlock(&uptrace_search_lock);
  return parent;
}
