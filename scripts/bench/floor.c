/*
 * The floor of the benchmarks: the least a C program linked against libcurl costs to start.
 *   floor          returns at once (exec, dynamic loading of libcurl and its dependencies)
 *   floor --init   also runs curl_global_init/curl_global_cleanup, as any libcurl user must
 * telnyx-lua's startup is compared with the second: the rest of its cost is ours.
 */
#include <string.h>

#include <curl/curl.h>

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--init") == 0) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return 1;
    curl_global_cleanup();
  }
  return 0;
}
