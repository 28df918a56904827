/*
 * The floor of the per-request figures: the same requests as scripts/bench/workload.lua, made
 * by a C program with libcurl alone (one easy handle, kept alive; the body received and
 * dropped, nothing decoded). What telnyx-lua spends beyond this is ours; this much is
 * libcurl's and the kernel's.
 *   curl_floor create BASE_URL COUNT FIRST   COUNT creates of addresses FIRST, FIRST+1, ...
 *   curl_floor list BASE_URL SIZE PAGES      pages 1 to PAGES of access IPs, SIZE a page
 * Prints the workload's line: the counts, then loop_cpu=SECONDS (CPU time of the requests).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

/* The body of the current response, kept as telnyx-lua keeps it (one buffer, reused). */
struct floor_body {
  char *data;
  size_t len, cap;
};

static size_t floor_on_body(char *data, size_t size, size_t nmemb, void *ud) {
  struct floor_body *b = ud;
  size_t n = size * nmemb;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 65536;
    char *p;
    while (cap < b->len + n) cap *= 2;
    if ((p = realloc(b->data, cap)) == NULL) return 0;
    b->data = p;
    b->cap = cap;
  }
  memcpy(b->data + b->len, data, n);
  b->len += n;
  return n;
}

/* Access IPs in the body: one "ip_address" key each. */
static int floor_count_items(const struct floor_body *b) {
  static const char key[] = "\"ip_address\"";
  size_t i;
  int items = 0;
  for (i = 0; i + sizeof key - 1 <= b->len; i++)
    if (b->data[i] == '"' && memcmp(b->data + i, key, sizeof key - 1) == 0) items++;
  return items;
}

static double floor_cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int floor_usage(void) {
  fprintf(stderr, "usage: curl_floor create BASE_URL COUNT FIRST | list BASE_URL SIZE PAGES\n");
  return 2;
}

int main(int argc, char **argv) {
  struct curl_slist *headers = NULL;
  struct floor_body body = {NULL, 0, 0};
  char url[512], post[64];
  double started;
  long status = 0;
  CURL *easy;
  if (argc < 4) return floor_usage();
  /* From before curl_global_init: telnyx-lua initialises libcurl at its first request. */
  started = floor_cpu_seconds();
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (easy = curl_easy_init()) == NULL) return 1;
  /* The headers telnyx-lua sends */
  headers = curl_slist_append(headers, "Accept: application/json");
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");
  headers = curl_slist_append(headers, "Authorization: Bearer bench");
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "curl_floor");
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, 65536L);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, floor_on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
  if (strcmp(argv[1], "create") == 0 && argc == 5) {
    int count = atoi(argv[3]), first = atoi(argv[4]), i, created = 0;
    snprintf(url, sizeof url, "%s/access_ip_address", argv[2]);
    curl_easy_setopt(easy, CURLOPT_URL, url);
    for (i = 0; i < count; i++) {
      unsigned long v = (172ul << 24 | 16ul << 16) + (unsigned long)(first + i); /* as workload.lua */
      snprintf(post, sizeof post, "{\"ip_address\":\"%lu.%lu.%lu.%lu\"}", v >> 24 & 255, v >> 16 & 255,
               v >> 8 & 255, v & 255);
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, post);
      body.len = 0;
      if (curl_easy_perform(easy) != CURLE_OK) return 1;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      if (status >= 200 && status < 300) created++;
    }
    printf("created=%d loop_cpu=%.6f\n", created, floor_cpu_seconds() - started);
  } else if (strcmp(argv[1], "list") == 0 && argc == 5) {
    int size = atoi(argv[3]), pages = atoi(argv[4]), page, items = 0;
    for (page = 1; page <= pages; page++) {
      snprintf(url, sizeof url, "%s/access_ip_address?page%%5Bnumber%%5D=%d&page%%5Bsize%%5D=%d", argv[2],
               page, size);
      curl_easy_setopt(easy, CURLOPT_URL, url);
      body.len = 0;
      if (curl_easy_perform(easy) != CURLE_OK) return 1;
      items += floor_count_items(&body);
    }
    printf("items=%d loop_cpu=%.6f\n", items, floor_cpu_seconds() - started);
  } else {
    return floor_usage();
  }
  free(body.data);
  curl_slist_free_all(headers);
  curl_easy_cleanup(easy);
  curl_global_cleanup();
  return 0;
}
