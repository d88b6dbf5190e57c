#ifndef WARNCAST_CCURL_SHIM_H
#define WARNCAST_CCURL_SHIM_H

#include <curl/curl.h>

/*
 * curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are variadic, which Swift
 * cannot call. Each wrapper below fixes the argument type for one family of options.
 */

static inline CURLcode warncast_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode warncast_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode warncast_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode warncast_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode warncast_easy_setopt_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

typedef size_t (*warncast_write_callback)(char *data, size_t size, size_t count, void *context);

static inline CURLcode warncast_easy_setopt_write_function(CURL *handle, CURLoption option, warncast_write_callback value) {
    return curl_easy_setopt(handle, option, value);
}

/* CURLOPT_READFUNCTION has the same shape as the write callback. */
static inline CURLcode warncast_easy_setopt_read_function(CURL *handle, CURLoption option, warncast_write_callback value) {
    return curl_easy_setopt(handle, option, value);
}

typedef int (*warncast_progress_callback)(void *context, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);

static inline CURLcode warncast_easy_setopt_progress_function(CURL *handle, CURLoption option, warncast_progress_callback value) {
    return curl_easy_setopt(handle, option, value);
}

typedef int (*warncast_debug_callback)(CURL *handle, curl_infotype type, char *data, size_t size, void *context);

static inline CURLcode warncast_easy_setopt_debug_function(CURL *handle, CURLoption option, warncast_debug_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode warncast_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode warncast_easy_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLMcode warncast_multi_setopt_long(CURLM *handle, CURLMoption option, long value) {
    return curl_multi_setopt(handle, option, value);
}

static inline CURLMcode warncast_multi_setopt_pointer(CURLM *handle, CURLMoption option, void *value) {
    return curl_multi_setopt(handle, option, value);
}

/* The CURLMsg union: the transfer's result for a CURLMSG_DONE message. */
static inline CURLcode warncast_message_result(const CURLMsg *message) {
    return message->data.result;
}

/* CURLVERSION_NOW is a macro Swift cannot import. */
static inline curl_version_info_data *warncast_version_info(void) {
    return curl_version_info(CURLVERSION_NOW);
}

#endif
