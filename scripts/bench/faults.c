/*
 * faults: what a page of fresh memory costs on this machine, two ways.
 *
 *   faults PAGES
 *
 * Prints one line: touch_us=T populate_us=P, the microseconds per page of
 *   - touching PAGES fresh anonymous pages one by one (a page fault each), and
 *   - mapping PAGES pages with MAP_POPULATE (the kernel fills them in one call),
 * the two ways src/alloc.c could get its chunks' pages. Both times include writing a byte to
 * each page: on a VM with shadow page tables the hypervisor takes its own first touch of a page
 * even when the guest has populated it, so populating saves the guest's fault, not all of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double faults_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* PAGES fresh pages, the first byte of each written (flags: extra mmap flags); us per page. */
static double faults_per_page(size_t pages, size_t page_size, int flags) {
  volatile char *p;
  double start = faults_now_us(), took;
  size_t i;
  p = mmap(NULL, pages * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
  if (p == MAP_FAILED) {
    perror("faults: mmap");
    exit(1);
  }
  for (i = 0; i < pages; i++) p[i * page_size] = 1;
  took = faults_now_us() - start;
  munmap((void *)p, pages * page_size);
  return took / (double)pages;
}

int main(int argc, char **argv) {
  long pages = argc == 2 ? strtol(argv[1], NULL, 10) : 0;
  size_t page_size = (size_t)sysconf(_SC_PAGESIZE);
  double touch, populate;
  if (pages <= 0) {
    fprintf(stderr, "usage: faults PAGES\n");
    return 2;
  }
  touch = faults_per_page((size_t)pages, page_size, 0);
  populate = faults_per_page((size_t)pages, page_size, MAP_POPULATE);
  printf("touch_us=%.3f populate_us=%.3f\n", touch, populate);
  return 0;
}
