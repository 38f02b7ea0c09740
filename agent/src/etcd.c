// SPDX-License-Identifier: MIT
/*
 * etcd's v3 JSON gateway (etcd 3.4: /v3/...), over one libcurl handle with
 * failover across the configured endpoints.  Every answer is untrusted:
 * bounded in size and depth, every member type-checked, int64s (sent as
 * strings) parsed strictly; anything else is an error, never a guess.
 */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

#define BODY_MAX	(1 << 20)	/* the largest answer we read */
#define JSON_DEPTH	16
#define KEY_MAX		512

struct etcd {
	const struct agent_conf *c;
	CURL *curl;
	int cur;			/* the endpoint that answered last */
	char token[512];		/* etcd auth token, when user is set */
	char err[256];
	char body[BODY_MAX];
	size_t body_len;
	int body_overflow;
};

/* ---- base64 ---------------------------------------------------------- */

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t b64_encode(const void *in, size_t len, char *out, size_t outlen)
{
	const unsigned char *p = in;
	size_t i, o = 0;
	uint32_t v;

	if (outlen < (len + 2) / 3 * 4 + 1)
		return 0;
	for (i = 0; i < len; i += 3) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? b64[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

static int b64_val(char ch)
{
	const char *p;

	if (!ch)
		return -1;
	p = strchr(b64, ch);
	return p ? (int)(p - b64) : -1;
}

int b64_decode(const char *in, size_t len, void *out, size_t outlen,
	       size_t *got)
{
	unsigned char *o = out;
	size_t i, n = 0;
	int a, b, c, d;

	if (len % 4)
		return -EINVAL;
	for (i = 0; i < len; i += 4) {
		a = b64_val(in[i]);
		b = b64_val(in[i + 1]);
		if (a < 0 || b < 0)
			return -EINVAL;
		c = in[i + 2] == '=' ? -2 : b64_val(in[i + 2]);
		d = in[i + 3] == '=' ? -2 : b64_val(in[i + 3]);
		if (c == -1 || d == -1 || (c == -2 && d != -2) ||
		    ((c == -2 || d == -2) && i + 4 != len))
			return -EINVAL;
		if (n + 3 > outlen)
			return -E2BIG;
		o[n++] = (unsigned char)(a << 2 | b >> 4);
		if (c >= 0)
			o[n++] = (unsigned char)((b & 15) << 4 | c >> 2);
		if (d >= 0)
			o[n++] = (unsigned char)((c & 3) << 6 | d);
	}
	*got = n;
	return 0;
}

/* ---- JSON ---------------------------------------------------------------- */

static json_object *jget(json_object *o, const char *k, json_type t)
{
	json_object *v;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, t))
		return NULL;
	return v;
}

static int jhas(json_object *o, const char *k)
{
	return o && json_object_is_type(o, json_type_object) &&
	       json_object_object_get_ex(o, k, NULL);
}

/* An int64 member: absent -> @def, a decimal string or an int, else error. */
static int jint64(json_object *o, const char *k, int64_t def, int64_t *v)
{
	json_object *m;
	const char *s, *p;
	int64_t r = 0;
	int neg = 0;

	if (!jhas(o, k)) {
		*v = def;
		return 0;
	}
	json_object_object_get_ex(o, k, &m);
	if (json_object_is_type(m, json_type_int)) {
		errno = 0;
		r = json_object_get_int64(m);
		if (errno)
			return -ERANGE;
		*v = r;
		return 0;
	}
	if (!json_object_is_type(m, json_type_string))
		return -EPROTO;
	s = json_object_get_string(m);
	p = s;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (!*p || json_object_get_string_len(m) > 20)
		return -EPROTO;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EPROTO;
		if (r > (INT64_MAX - 9) / 10)
			return -ERANGE;
		r = r * 10 + (*p - '0');
	}
	*v = neg ? -r : r;
	return 0;
}

/* The first key-value of a range answer; found = 0 when there is none. */
static int parse_kv(json_object *range, struct etcd_kv *kv)
{
	json_object *kvs, *first, *val;
	const char *s;
	size_t len;
	int ret;

	memset(kv, 0, sizeof(*kv));
	if (!range || !json_object_is_type(range, json_type_object))
		return -EPROTO;
	if (!jhas(range, "kvs"))
		return 0;
	kvs = jget(range, "kvs", json_type_array);
	if (!kvs)
		return -EPROTO;
	if (json_object_array_length(kvs) == 0)
		return 0;
	first = json_object_array_get_idx(kvs, 0);
	if (!first || !json_object_is_type(first, json_type_object))
		return -EPROTO;
	ret = jint64(first, "create_revision", 0, &kv->create_rev);
	if (!ret)
		ret = jint64(first, "mod_revision", 0, &kv->mod_rev);
	if (!ret)
		ret = jint64(first, "lease", 0, &kv->lease);
	if (ret)
		return ret;
	if (kv->create_rev <= 0 || kv->mod_rev <= 0 || kv->lease < 0)
		return -EPROTO;
	if (jhas(first, "value")) {
		val = jget(first, "value", json_type_string);
		if (!val)
			return -EPROTO;
		s = json_object_get_string(val);
		len = (size_t)json_object_get_string_len(val);
		ret = b64_decode(s, len, kv->value, sizeof(kv->value) - 1,
				 &kv->value_len);
		if (ret == -E2BIG) {
			kv->value_truncated = 1;
			kv->value_len = 0;
		} else if (ret) {
			return -EPROTO;
		}
		kv->value[kv->value_len] = '\0';
	}
	kv->found = 1;
	return 0;
}

/* ---- HTTP ---------------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct etcd *e = arg;
	size_t len = size * n;

	if (len > BODY_MAX - 1 - e->body_len) {
		e->body_overflow = 1;
		return 0;	/* makes curl fail the transfer */
	}
	memcpy(e->body + e->body_len, p, len);
	e->body_len += len;
	return len;
}

struct etcd *etcd_new(const struct agent_conf *c)
{
	struct etcd *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->c = c;
	e->curl = curl_easy_init();
	if (!e->curl) {
		free(e);
		return NULL;
	}
	return e;
}

void etcd_free(struct etcd *e)
{
	if (!e)
		return;
	curl_easy_cleanup(e->curl);
	memset(e->token, 0, sizeof(e->token));
	free(e);
}

const char *etcd_error(const struct etcd *e)
{
	return e->err;
}

const char *etcd_endpoint(const struct etcd *e)
{
	return e->c->endpoints[e->cur];
}

/* One POST to one endpoint; the HTTP status, or -errno. */
static long post_one(struct etcd *e, const char *ep, const char *path,
		     const char *body, int auth)
{
	const struct agent_conf *c = e->c;
	struct curl_slist *h = NULL, *h2;
	char url[512], hdr[600];
	long code = 0;
	CURLcode rc;

	snprintf(url, sizeof(url), "%s%s", ep, path);
	curl_easy_reset(e->curl);
	e->body_len = 0;
	e->body_overflow = 0;
	h = curl_slist_append(NULL, "Content-Type: application/json");
	if (h && auth && e->token[0]) {
		snprintf(hdr, sizeof(hdr), "Authorization: %s", e->token);
		h2 = curl_slist_append(h, hdr);
		if (h2)
			h = h2;
	}
	curl_easy_setopt(e->curl, CURLOPT_URL, url);
	curl_easy_setopt(e->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, e);
	curl_easy_setopt(e->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(e->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(e->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e->curl, CURLOPT_NOPROXY, "*");
	if (c->cacert[0])
		curl_easy_setopt(e->curl, CURLOPT_CAINFO, c->cacert);
	if (c->cert[0])
		curl_easy_setopt(e->curl, CURLOPT_SSLCERT, c->cert);
	if (c->key[0])
		curl_easy_setopt(e->curl, CURLOPT_SSLKEY, c->key);
	rc = curl_easy_perform(e->curl);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		snprintf(e->err, sizeof(e->err), "%s: %s", ep,
			 e->body_overflow ? "answer too large" :
			 curl_easy_strerror(rc));
		return -EIO;
	}
	curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &code);
	e->body[e->body_len] = '\0';
	return code;
}

static json_object *parse_body(struct etcd *e)
{
	struct json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
	json_object *o;
	size_t end;

	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, e->body, (int)e->body_len);
	end = o ? json_tokener_get_parse_end(tok) : 0;
	while (end < e->body_len && e->body[end] &&
	       strchr(" \t\r\n", e->body[end]))
		end++;
	if (o && (json_tokener_get_error(tok) != json_tokener_success ||
		  end != e->body_len ||
		  !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static int authenticate(struct etcd *e, const char *ep)
{
	json_object *req = json_object_new_object(), *o, *t;
	long code;
	int ret = -EACCES;

	json_object_object_add(req, "name", json_object_new_string(e->c->user));
	json_object_object_add(req, "password",
			       json_object_new_string(e->c->password));
	code = post_one(e, ep, "/v3/auth/authenticate",
			json_object_to_json_string(req), 0);
	json_object_put(req);
	if (code < 0)
		return (int)code;
	o = parse_body(e);
	t = jget(o, "token", json_type_string);
	if (code == 200 && t && json_object_get_string_len(t) > 0 &&
	    (size_t)json_object_get_string_len(t) < sizeof(e->token)) {
		strcpy(e->token, json_object_get_string(t));
		ret = 0;
	} else {
		snprintf(e->err, sizeof(e->err), "%s: authentication refused (HTTP %ld)",
			 ep, code);
	}
	json_object_put(o);
	return ret;
}

/*
 * POST @body to @path, trying each endpoint once from the last good one.
 * A transport error, a 5xx, an error in a 200 answer (a stream's way) or an
 * unreadable answer moves to the next;
 * another status is the cluster's answer: -ENOENT for 404, else -EREMOTEIO.
 */
static int post(struct etcd *e, const char *path, const char *body,
		json_object **out)
{
	int n = e->c->n_endpoints, i, ep, reauth = 0;
	json_object *o, *msg;
	long code;

	*out = NULL;
	for (i = 0; i < n; i++) {
		ep = (e->cur + i) % n;
		if (e->c->user[0] && !e->token[0] &&
		    authenticate(e, e->c->endpoints[ep]))
			continue;
		code = post_one(e, e->c->endpoints[ep], path, body, 1);
		if (code < 0)
			continue;
		o = parse_body(e);
		/* A stream (keepalive) reports its errors in a 200 answer. */
		if (code == 200 && o && !jhas(o, "error")) {
			e->cur = ep;
			*out = o;
			return 0;
		}
		msg = jget(o, "message", json_type_string);
		if (!msg)
			msg = jget(jget(o, "error", json_type_object), "message",
				   json_type_string);
		snprintf(e->err, sizeof(e->err), "%s%s: HTTP %ld: %.120s",
			 e->c->endpoints[ep], path, code,
			 msg ? json_object_get_string(msg) :
			 (o ? "(no message)" : "(unreadable answer)"));
		if (e->c->user[0] && !reauth && msg &&
		    strstr(json_object_get_string(msg), "auth token")) {
			/* expired token: once more, same endpoint */
			e->token[0] = '\0';
			reauth = 1;
			i--;
			json_object_put(o);
			continue;
		}
		json_object_put(o);
		if (code == 200 || code >= 500 || code == 401 || code == 403)
			continue;
		e->cur = ep;
		return code == 404 ? -ENOENT : -EREMOTEIO;
	}
	return -EIO;
}

/* ---- leases -------------------------------------------------------------- */

int etcd_lease_grant(struct etcd *e, int64_t ttl, int64_t *lease)
{
	char body[64];
	json_object *o;
	int64_t id, got;
	int ret;

	snprintf(body, sizeof(body), "{\"TTL\":\"%" PRId64 "\"}", ttl);
	ret = post(e, "/v3/lease/grant", body, &o);
	if (ret)
		return ret;
	ret = jint64(o, "ID", 0, &id);
	if (!ret)
		ret = jint64(o, "TTL", 0, &got);
	if (!ret && (id <= 0 || got <= 0))
		ret = -EPROTO;
	if (ret)
		snprintf(e->err, sizeof(e->err), "lease grant: malformed answer");
	else
		*lease = id;
	json_object_put(o);
	return ret;
}

int etcd_lease_keepalive(struct etcd *e, int64_t lease, int64_t *ttl)
{
	char body[64];
	json_object *o, *r;
	int64_t id;
	int ret;

	snprintf(body, sizeof(body), "{\"ID\":\"%" PRId64 "\"}", lease);
	ret = post(e, "/v3/lease/keepalive", body, &o);
	if (ret)
		return ret;
	/* A streaming call: the answer sits in "result". */
	r = jget(o, "result", json_type_object);
	ret = r ? jint64(r, "ID", 0, &id) : -EPROTO;
	if (!ret && id != lease)
		ret = -EPROTO;
	if (!ret)
		ret = jint64(r, "TTL", 0, ttl);
	if (ret) {
		snprintf(e->err, sizeof(e->err), "keepalive: malformed answer");
	} else {
		/* no TTL (or 0, or less) is etcd's way to say: no such lease */
		ret = *ttl > 0 ? 1 : 0;
	}
	json_object_put(o);
	return ret;
}

int etcd_lease_revoke(struct etcd *e, int64_t lease)
{
	char body[64];
	json_object *o;
	int ret;

	snprintf(body, sizeof(body), "{\"ID\":\"%" PRId64 "\"}", lease);
	ret = post(e, "/v3/lease/revoke", body, &o);
	json_object_put(o);
	return ret == -ENOENT ? 0 : ret;
}

/* ---- key-value ----------------------------------------------------------- */

static int enc_key(const char *key, char *out, size_t outlen)
{
	size_t n = strlen(key);

	if (n > KEY_MAX || !b64_encode(key, n, out, outlen))
		return -ENAMETOOLONG;
	return 0;
}

/* The @idx-th txn response's member @what ("response_range", ...) */
static json_object *txn_resp(json_object *o, size_t idx, const char *what)
{
	json_object *r = jget(o, "responses", json_type_array), *el;

	if (!r || json_object_array_length(r) <= idx)
		return NULL;
	el = json_object_array_get_idx(r, idx);
	return jget(el, what, json_type_object);
}

/* "succeeded": absent means false (the gateway leaves defaults out). */
static int txn_succeeded(json_object *o, int *ok)
{
	json_object *s;

	if (!jhas(o, "succeeded")) {
		*ok = 0;
		return 0;
	}
	s = jget(o, "succeeded", json_type_boolean);
	if (!s)
		return -EPROTO;
	*ok = json_object_get_boolean(s);
	return 0;
}

int etcd_claim(struct etcd *e, const char *owner, const char *hwkey,
	       const char *value, int64_t lease, struct etcd_kv *hw)
{
	char ko[800], kh[800], v[800], body[8192];
	struct etcd_kv own;
	json_object *o;
	int ret, ok;

	if (enc_key(owner, ko, sizeof(ko)) || enc_key(hwkey, kh, sizeof(kh)) ||
	    enc_key(value, v, sizeof(v)))
		return -ENAMETOOLONG;
	snprintf(body, sizeof(body),
		 "{\"compare\":[{\"key\":\"%s\",\"result\":\"EQUAL\","
		 "\"target\":\"CREATE\",\"create_revision\":\"0\"}],"
		 "\"success\":[{\"request_put\":{\"key\":\"%s\",\"value\":\"%s\","
		 "\"lease\":\"%" PRId64 "\"}},{\"request_range\":{\"key\":\"%s\"}}],"
		 "\"failure\":[{\"request_range\":{\"key\":\"%s\"}},"
		 "{\"request_range\":{\"key\":\"%s\"}}]}",
		 ko, ko, v, lease, kh, ko, kh);
	ret = post(e, "/v3/kv/txn", body, &o);
	if (ret)
		return ret;
	ret = txn_succeeded(o, &ok);
	if (!ret && ok) {
		ret = parse_kv(txn_resp(o, 1, "response_range"), hw);
		ret = ret ? ret : 1;
	} else if (!ret) {
		/* Ours already when an earlier answer was lost on the way. */
		ret = parse_kv(txn_resp(o, 0, "response_range"), &own);
		if (!ret && own.found && own.lease == lease) {
			ret = parse_kv(txn_resp(o, 1, "response_range"), hw);
			ret = ret ? ret : 1;
		}
	}
	if (ret < 0)
		snprintf(e->err, sizeof(e->err), "claim %s: malformed answer",
			 owner);
	json_object_put(o);
	return ret;
}

int etcd_get(struct etcd *e, const char *key, struct etcd_kv *kv)
{
	char k[800], body[1024];
	json_object *o;
	int ret;

	if (enc_key(key, k, sizeof(k)))
		return -ENAMETOOLONG;
	snprintf(body, sizeof(body), "{\"key\":\"%s\"}", k);
	ret = post(e, "/v3/kv/range", body, &o);
	if (ret)
		return ret;
	ret = parse_kv(o, kv);
	if (ret)
		snprintf(e->err, sizeof(e->err), "range %s: malformed answer",
			 key);
	json_object_put(o);
	return ret;
}

int etcd_raise(struct etcd *e, const char *owner, int64_t lease,
	       const char *hwkey, int64_t hw_rev, const char *value,
	       struct etcd_kv *owner_kv)
{
	char ko[800], kh[800], v[800], body[8192];
	json_object *o;
	int ret, ok;

	if (enc_key(owner, ko, sizeof(ko)) || enc_key(hwkey, kh, sizeof(kh)) ||
	    enc_key(value, v, sizeof(v)))
		return -ENAMETOOLONG;
	snprintf(body, sizeof(body),
		 "{\"compare\":[{\"key\":\"%s\",\"result\":\"EQUAL\","
		 "\"target\":\"LEASE\",\"lease\":\"%" PRId64 "\"},"
		 "{\"key\":\"%s\",\"result\":\"EQUAL\",\"target\":\"MOD\","
		 "\"mod_revision\":\"%" PRId64 "\"}],"
		 "\"success\":[{\"request_put\":{\"key\":\"%s\",\"value\":\"%s\"}}],"
		 "\"failure\":[{\"request_range\":{\"key\":\"%s\"}}]}",
		 ko, lease, kh, hw_rev, kh, v, ko);
	ret = post(e, "/v3/kv/txn", body, &o);
	if (ret)
		return ret;
	ret = txn_succeeded(o, &ok);
	if (!ret && ok) {
		/* the put must be there: a bare "succeeded" is not enough */
		ret = txn_resp(o, 0, "response_put") ? 1 : -EPROTO;
	} else if (!ret) {
		ret = parse_kv(txn_resp(o, 0, "response_range"), owner_kv);
	}
	if (ret < 0)
		snprintf(e->err, sizeof(e->err), "raise %s: malformed answer",
			 hwkey);
	json_object_put(o);
	return ret;
}

int etcd_release(struct etcd *e, const char *owner, int64_t lease)
{
	char ko[800], body[2048];
	json_object *o;
	int ret, ok;

	if (enc_key(owner, ko, sizeof(ko)))
		return -ENAMETOOLONG;
	snprintf(body, sizeof(body),
		 "{\"compare\":[{\"key\":\"%s\",\"result\":\"EQUAL\","
		 "\"target\":\"LEASE\",\"lease\":\"%" PRId64 "\"}],"
		 "\"success\":[{\"request_delete_range\":{\"key\":\"%s\"}}]}",
		 ko, lease, ko);
	ret = post(e, "/v3/kv/txn", body, &o);
	if (ret)
		return ret;
	ret = txn_succeeded(o, &ok);
	json_object_put(o);
	return ret ? ret : ok;
}
