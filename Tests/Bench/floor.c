/*
 * make bench's floor: what any sender must spend on a delivery in each mode, with nothing of
 * Warncast in it. One thread of C drives libcurl's multi interface the way warncastd's engine
 * does (a new easy handle per transfer, IN_FLIGHT at a time, the connection not kept when
 * every transfer goes to a host of its own), and signs each request's body with Ed25519
 * (OpenSSL) over the same bytes warncastd signs (docs/signing.md), with the same headers.
 * No store, no receipts, no retries.
 *
 *   floor MODE COUNT IN_FLIGHT PORT BODY_FILE [CA_FILE]
 *   MODE: keepalive (every request to 127.0.0.1), distinct (each to its own 127.B.C.D),
 *         tls (each to its own tN.speakers.localhost over HTTPS, verified against CA_FILE)
 *
 * Prints one line of name=value: the transfers answered 200, wall seconds, this process's
 * CPU seconds, and of those the microseconds per transfer spent signing.
 */
#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static const char *mode, *ca_file;
static int port, next_index;
static unsigned char *body;
static long body_length;
static EVP_PKEY *key;
static double signing_seconds;

struct transfer {
    CURL *easy;
    struct curl_slist *headers;
    unsigned char *signed_bytes;
};

static size_t discard(char *data, size_t size, size_t count, void *context) {
    (void)data;
    (void)context;
    return size * count;
}

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* The four signing headers of one request, as warncastd sends them. */
static struct curl_slist *signed_headers(struct transfer *transfer, int index) {
    char idempotency[96], timestamp[40], line[160];
    unsigned char signature[64];
    char encoded[96];
    size_t signature_length = sizeof signature;
    snprintf(idempotency, sizeof idempotency, "9f1c2d3e-0000-4000-8000-%012d/ls-%d", index, index);
    snprintf(timestamp, sizeof timestamp, "2026-12-03T00:00:00.%03dZ", index % 1000);
    double started = cpu_now();
    size_t prefix = (size_t)snprintf(NULL, 0, "warncast-v1\n%s\n%s\n", timestamp, idempotency);
    transfer->signed_bytes = malloc(prefix + (size_t)body_length + 1);
    snprintf((char *)transfer->signed_bytes, prefix + 1, "warncast-v1\n%s\n%s\n", timestamp, idempotency);
    memcpy(transfer->signed_bytes + prefix, body, (size_t)body_length);
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    if (EVP_DigestSignInit(context, NULL, NULL, NULL, key) != 1
        || EVP_DigestSign(context, signature, &signature_length, transfer->signed_bytes, prefix + (size_t)body_length) != 1) {
        fprintf(stderr, "floor: cannot sign\n");
        exit(1);
    }
    EVP_MD_CTX_free(context);
    EVP_EncodeBlock((unsigned char *)encoded, signature, (int)signature_length);
    signing_seconds += cpu_now() - started;

    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    snprintf(line, sizeof line, "Idempotency-Key: %s", idempotency);
    headers = curl_slist_append(headers, line);
    snprintf(line, sizeof line, "Warncast-Timestamp: %s", timestamp);
    headers = curl_slist_append(headers, line);
    headers = curl_slist_append(headers, "Warncast-Key-Id: 0123456789abcdef");
    snprintf(line, sizeof line, "Warncast-Signature: %s", encoded);
    return curl_slist_append(headers, line);
}

static struct transfer *start(CURLM *multi) {
    int index = next_index++;
    char url[160];
    if (strcmp(mode, "keepalive") == 0) {
        snprintf(url, sizeof url, "http://127.0.0.1:%d/speaker/%d", port, index);
    } else if (strcmp(mode, "distinct") == 0) {
        snprintf(url, sizeof url, "http://127.%d.%d.%d:%d/speaker/%d", 1 + index / 62500, (index / 250) % 250, 1 + index % 250,
            port, index);
    } else {
        snprintf(url, sizeof url, "https://t%d.speakers.localhost:%d/speaker/%d", index, port, index);
    }
    struct transfer *transfer = calloc(1, sizeof *transfer);
    transfer->headers = signed_headers(transfer, index);
    CURL *easy = curl_easy_init();
    transfer->easy = easy;
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, "POST");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
    if (strcmp(mode, "keepalive") != 0) curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
    if (ca_file) {
        curl_easy_setopt(easy, CURLOPT_CAINFO, ca_file);
        curl_easy_setopt(easy, CURLOPT_CAPATH, NULL);
        curl_easy_setopt(easy, CURLOPT_CA_CACHE_TIMEOUT, 3600L);
    }
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_length);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer);
    curl_multi_add_handle(multi, easy);
    return transfer;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: floor keepalive|distinct|tls COUNT IN_FLIGHT PORT BODY_FILE [CA_FILE]\n");
        return 2;
    }
    mode = argv[1];
    int count = atoi(argv[2]), in_flight = atoi(argv[3]);
    port = atoi(argv[4]);
    ca_file = argc > 6 ? argv[6] : NULL;
    FILE *file = fopen(argv[5], "rb");
    if (!file) {
        perror(argv[5]);
        return 1;
    }
    fseek(file, 0, SEEK_END);
    body_length = ftell(file);
    rewind(file);
    body = malloc((size_t)body_length);
    if (fread(body, 1, (size_t)body_length, file) != (size_t)body_length) return 1;
    fclose(file);
    EVP_PKEY_CTX *generator = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    if (!generator || EVP_PKEY_keygen_init(generator) != 1 || EVP_PKEY_keygen(generator, &key) != 1) {
        fprintf(stderr, "floor: no Ed25519 key\n");
        return 1;
    }
    curl_global_init(CURL_GLOBAL_ALL);
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 1024L);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 1024L);

    struct timespec began, ended;
    clock_gettime(CLOCK_MONOTONIC, &began);
    int active = 0, finished = 0, answered = 0;
    while (active < in_flight && next_index < count) {
        start(multi);
        active++;
    }
    while (finished < count) {
        int running;
        curl_multi_perform(multi, &running);
        CURLMsg *message;
        int left;
        while ((message = curl_multi_info_read(multi, &left))) {
            if (message->msg != CURLMSG_DONE) continue;
            struct transfer *transfer;
            long status = 0;
            curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&transfer);
            curl_easy_getinfo(message->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            if (message->data.result == CURLE_OK && status == 200) answered++;
            curl_multi_remove_handle(multi, message->easy_handle);
            curl_easy_cleanup(message->easy_handle);
            curl_slist_free_all(transfer->headers);
            free(transfer->signed_bytes);
            free(transfer);
            finished++;
            active--;
            if (next_index < count) {
                start(multi);
                active++;
            }
        }
        curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &ended);
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    double cpu = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
    printf("floor_answered=%d floor_wall_s=%.2f floor_cpu_s=%.2f floor_sign_us=%.1f\n", answered,
        (ended.tv_sec - began.tv_sec) + (ended.tv_nsec - began.tv_nsec) / 1e9, cpu, signing_seconds * 1e6 / count);
    curl_multi_cleanup(multi);
    return answered == count ? 0 : 1;
}
