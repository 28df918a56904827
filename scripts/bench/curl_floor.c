/*
 * The floor of the per-request figures: the same requests as scripts/bench/workload.lua, made
 * by a C program with libcurl alone (one easy handle, kept alive; the body received and
 * dropped, nothing decoded). What telnyx-lua spends beyond this is ours; this much is
 * libcurl's and the kernel's.
 *   curl_floor create BASE_URL COUNT FIRST   COUNT creates of addresses FIRST, FIRST+1, ...
 *   curl_floor list BASE_URL SIZE PAGES      pages 1 to PAGES of access IPs, SIZE a page
 *   curl_floor rotate BASE_URL COUNT CONCURRENCY
 *       the requests of scripts/rotate-ip-allowlist.lua --apply adding COUNT addresses to an
 *       empty allowlist, at most CONCURRENCY at once, through libcurl's multi interface: the
 *       first page of both lists, the COUNT creates, then every page of both lists
 * Prints the workload's line: the counts, then loop_cpu=SECONDS (CPU time of the requests); list
 * and create put first_cpu=SECONDS before it (the part the first request took), as workload.lua.
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
  fprintf(stderr, "usage: curl_floor create BASE_URL COUNT FIRST | list BASE_URL SIZE PAGES"
                  " | rotate BASE_URL COUNT CONCURRENCY\n");
  return 2;
}

/* The body of address number n (1, 2, ...), as workload.lua and the bench's allowlist number them. */
static void floor_address_body(char *post, size_t size, int n) {
  unsigned long v = (172ul << 24 | 16ul << 16) + (unsigned long)n;
  snprintf(post, size, "{\"ip_address\":\"%lu.%lu.%lu.%lu\"}", v >> 24 & 255, v >> 16 & 255, v >> 8 & 255,
           v & 255);
}

/* What every handle sends and where its body goes, as telnyx-lua sets it. */
static void floor_easy_setup(CURL *easy, struct curl_slist *headers, struct floor_body *body) {
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "curl_floor");
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, 65536L);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, floor_on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, body);
  /* Over https:// (the bench's TLS front): HTTP/2 as telnyx-lua negotiates it, and the CA
     bundle that telnyx-lua is given. */
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
  if (getenv("TELNYX_CA_BUNDLE") != NULL) curl_easy_setopt(easy, CURLOPT_CAINFO, getenv("TELNYX_CA_BUNDLE"));
}

/* The URL of page `number` of a list, `size` items a page. */
static void floor_page_url(char *url, size_t n, const char *base, const char *resource, int number,
                           int size) {
  snprintf(url, n, "%s/%s?page%%5Bnumber%%5D=%d&page%%5Bsize%%5D=%d", base, resource, number, size);
}

/* One transfer slot of the rotate workload: a kept easy handle, its body and its POST body
   (libcurl does not copy POSTFIELDS). */
struct floor_slot {
  CURL *easy;
  struct floor_body body;
  char post[64];
  int busy, is_page;
};

/*
 * Runs one phase of the rotate workload, at most `concurrency` requests at once: GETs of the
 * npages URLs in pages, then (create_url set) `creates` POSTs of addresses 1, 2, ...
 * Counts the items of the pages and the records created; false on a transfer error.
 */
static int floor_run_phase(CURLM *multi, struct floor_slot *slots, int concurrency, char (*pages)[512],
                           int npages, const char *create_url, int creates, int *items, int *created) {
  int next = 0, total = npages + creates, active = 0, i, left;
  CURLMsg *msg;
  while (next < total || active > 0) {
    for (i = 0; i < concurrency && next < total; i++) {
      struct floor_slot *s = &slots[i];
      if (s->busy) continue;
      s->is_page = next < npages;
      if (s->is_page) {
        curl_easy_setopt(s->easy, CURLOPT_URL, pages[next]); /* libcurl copies the URL */
        curl_easy_setopt(s->easy, CURLOPT_HTTPGET, 1L);
      } else {
        curl_easy_setopt(s->easy, CURLOPT_URL, create_url);
        floor_address_body(s->post, sizeof s->post, next - npages + 1);
        curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->post);
      }
      s->body.len = 0;
      if (curl_multi_add_handle(multi, s->easy) != CURLM_OK) return 0;
      s->busy = 1;
      next++;
      active++;
    }
    if (curl_multi_perform(multi, &left) != CURLM_OK) return 0;
    while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
      struct floor_slot *s = NULL;
      long status = 0;
      if (msg->msg != CURLMSG_DONE) continue;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
      if (msg->data.result != CURLE_OK) return 0;
      curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
      if (s->is_page) *items += floor_count_items(&s->body);
      else if (status >= 200 && status < 300) (*created)++;
      curl_multi_remove_handle(multi, s->easy);
      s->busy = 0;
      active--;
    }
    /* Wait only when no slot can take the next request. */
    if (active > 0 && (next == total || active == concurrency) &&
        curl_multi_poll(multi, NULL, 0, 1000, NULL) != CURLM_OK)
      return 0;
  }
  return 1;
}

/* rotate's requests; prints the counts. */
static int floor_rotate(const char *base, int count, int concurrency, struct curl_slist *headers) {
  enum { PAGE = 250, MAX_PAGES = 64 };
  static char pages[MAX_PAGES + 1][512];
  char create_url[512];
  CURLM *multi = curl_multi_init();
  struct floor_slot *slots = concurrency > 0 ? calloc((size_t)concurrency, sizeof *slots) : NULL;
  int i, npages = (count + PAGE - 1) / PAGE, items = 0, created = 0, ok = 1;
  if (multi == NULL || slots == NULL || npages > MAX_PAGES) return 0;
  for (i = 0; i < concurrency; i++) {
    if ((slots[i].easy = curl_easy_init()) == NULL) return 0;
    floor_easy_setup(slots[i].easy, headers, &slots[i].body);
    curl_easy_setopt(slots[i].easy, CURLOPT_PRIVATE, (char *)&slots[i]);
  }
  /* The first read: page 1 of both lists (the allowlist is empty). */
  floor_page_url(pages[0], sizeof pages[0], base, "access_ip_address", 1, PAGE);
  floor_page_url(pages[1], sizeof pages[1], base, "access_ip_ranges", 1, PAGE);
  ok = floor_run_phase(multi, slots, concurrency, pages, 2, NULL, 0, &items, &created);
  snprintf(create_url, sizeof create_url, "%s/access_ip_address", base);
  ok = ok && floor_run_phase(multi, slots, concurrency, pages, 0, create_url, count, &items, &created);
  /* The second read, in one round: every page the additions fill, and the ranges' first. */
  items = 0;
  for (i = 0; i < npages; i++)
    floor_page_url(pages[i], sizeof pages[i], base, "access_ip_address", i + 1, PAGE);
  floor_page_url(pages[npages], sizeof pages[npages], base, "access_ip_ranges", 1, PAGE);
  ok = ok && floor_run_phase(multi, slots, concurrency, pages, npages + 1, NULL, 0, &items, &created);
  for (i = 0; i < concurrency; i++) {
    curl_easy_cleanup(slots[i].easy);
    free(slots[i].body.data);
  }
  free(slots);
  curl_multi_cleanup(multi);
  if (ok) printf("created=%d items=%d", created, items);
  return ok;
}

int main(int argc, char **argv) {
  struct curl_slist *headers = NULL;
  struct floor_body body = {NULL, 0, 0};
  char url[512], post[64];
  double started, first_cpu = 0;
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
  floor_easy_setup(easy, headers, &body);
  if (strcmp(argv[1], "create") == 0 && argc == 5) {
    int count = atoi(argv[3]), first = atoi(argv[4]), i, created = 0;
    snprintf(url, sizeof url, "%s/access_ip_address", argv[2]);
    curl_easy_setopt(easy, CURLOPT_URL, url);
    for (i = 0; i < count; i++) {
      floor_address_body(post, sizeof post, first + i);
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, post);
      body.len = 0;
      if (curl_easy_perform(easy) != CURLE_OK) return 1;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      if (status >= 200 && status < 300) created++;
      if (i == 0) first_cpu = floor_cpu_seconds() - started;
    }
    printf("created=%d first_cpu=%.6f loop_cpu=%.6f\n", created, first_cpu, floor_cpu_seconds() - started);
  } else if (strcmp(argv[1], "list") == 0 && argc == 5) {
    int size = atoi(argv[3]), pages = atoi(argv[4]), page, items = 0;
    for (page = 1; page <= pages; page++) {
      floor_page_url(url, sizeof url, argv[2], "access_ip_address", page, size);
      curl_easy_setopt(easy, CURLOPT_URL, url);
      body.len = 0;
      if (curl_easy_perform(easy) != CURLE_OK) return 1;
      items += floor_count_items(&body);
      if (page == 1) first_cpu = floor_cpu_seconds() - started;
    }
    printf("items=%d first_cpu=%.6f loop_cpu=%.6f\n", items, first_cpu, floor_cpu_seconds() - started);
  } else if (strcmp(argv[1], "rotate") == 0 && argc == 5) {
    if (!floor_rotate(argv[2], atoi(argv[3]), atoi(argv[4]), headers)) return 1;
    printf(" loop_cpu=%.6f\n", floor_cpu_seconds() - started);
  } else {
    return floor_usage();
  }
  free(body.data);
  curl_slist_free_all(headers);
  curl_easy_cleanup(easy);
  curl_global_cleanup();
  return 0;
}
