/*
 * rusage: runs one command as a child and reports what the OS measured of it.
 *
 *   rusage OUTFILE command [args...]
 *
 * The child inherits stdin, stdout and stderr. When it has ended, one line is written to OUTFILE:
 *   wall_s user_s sys_s maxrss_kb status
 * wall from CLOCK_MONOTONIC around fork..wait4, user/sys CPU and peak RSS from the child's
 * rusage (wait4), status the exit code (128+N when killed by signal N). Exits with the same
 * status. Unlike time(1)'s %U/%S (10 ms steps), rusage has microsecond resolution.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double tv_seconds(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  struct rusage ru;
  double start, wall;
  int status = 0, code;
  pid_t pid;
  FILE *out;

  if (argc < 3) {
    fprintf(stderr, "usage: rusage OUTFILE command [args...]\n");
    return 2;
  }
  start = now_seconds();
  pid = fork();
  if (pid < 0) {
    perror("rusage: fork");
    return 2;
  }
  if (pid == 0) {
    execvp(argv[2], argv + 2);
    fprintf(stderr, "rusage: cannot run %s: %s\n", argv[2], strerror(errno));
    _exit(127);
  }
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) {
      perror("rusage: wait4");
      return 2;
    }
  }
  wall = now_seconds() - start;
  code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  out = fopen(argv[1], "w");
  if (out == NULL) {
    perror("rusage: OUTFILE");
    return 2;
  }
  fprintf(out, "%.6f %.6f %.6f %ld %d\n", wall, tv_seconds(ru.ru_utime), tv_seconds(ru.ru_stime),
          ru.ru_maxrss, code);
  fclose(out);
  return code;
}
