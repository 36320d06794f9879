/*
 * ws.c
 *	  A websocket client on libwebsockets that never raises and never blocks.
 *
 * libwebsockets runs its callbacks from inside lws_service(): nothing in
 * them may ereport or palloc (an ERROR would longjmp through lws), so they
 * use malloc and flags only, and the caller turns flags into errors after
 * lws_service() has returned.  Received frames are reassembled into a queue
 * of malloc'd buffers; the caller drains it.
 *
 * Reassembly is bounded (max_message_bytes): a server sending one endless
 * fragmented message must cost a connection, not the backend.  Past the
 * cap only the message's first bytes are kept, for the caller to
 * dead-letter, and the connection is dropped.
 *
 * Error texts may quote bytes from the network (a close reason, lws's
 * connection error); every byte outside printable ASCII becomes '?', so the
 * text can be stored whatever the database encoding is.
 *
 * Debian's libwebsockets 4.1 has no external-poll hooks and lws_service()
 * ignores short timeouts, so the caller waits on ws_fd() itself (with
 * WaitLatchOrSocket) and calls ws_service(), which runs lws_service(ctx, -1):
 * one non-blocking pass.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "net/ws.h"

#define RX_BUFFER_SIZE	(64 * 1024)
#define MAX_SERVICE_PASSES 256

typedef struct Frame
{
	struct Frame *next;
	size_t		len;
	char		data[];			/* flexible array member */
} Frame;

struct WsClient
{
	struct lws_context *ctx;
	struct lws *wsi;
	WsState		state;
	char		error[256];
	char		host[256];
	char		path[1024];
	/* frame being reassembled */
	char	   *partial;
	size_t		partial_len;
	size_t		partial_cap;
	size_t		max_message;	/* cap on partial_len (> 0) */
	/* set once a message passed max_message: partial then holds its prefix */
	bool		oversize;
	size_t		oversize_seen;
	/* received, complete frames */
	Frame	   *head;
	Frame	   *tail;
	Frame	   *taken;			/* last frame handed out, freed on the next take */
	size_t		queued;
	size_t		queued_bytes;
	/* outgoing frames (LWS_PRE bytes of headroom each) */
	Frame	   *out_head;
	Frame	   *out_tail;
	bool		oom;
};

/*
 * Append in[0..len) to dst (size dstsize, holding a NUL-terminated text),
 * each byte outside printable ASCII as '?': the bytes come from the
 * network, and the error text ends up in a text column and in the log.
 */
static void
append_printable(char *dst, size_t dstsize, const void *in, size_t len)
{
	size_t		n = strlen(dst);
	const unsigned char *p = in;

	for (size_t i = 0; i < len && n + 1 < dstsize; i++)
		dst[n++] = (p[i] >= 0x20 && p[i] < 0x7F) ? (char) p[i] : '?';
	dst[n] = '\0';
}

/* error = what, or "what: detail" (detail made printable); the first cause wins. */
static void
set_error(WsClient *c, const char *what, const void *in, size_t len)
{
	if (c->error[0])
		return;					/* keep the first cause */
	snprintf(c->error, sizeof(c->error), "%s", what);
	if (in != NULL && len > 0)
	{
		append_printable(c->error, sizeof(c->error), ": ", 2);
		append_printable(c->error, sizeof(c->error), in, len);
	}
}

/*
 * The server's close frame: in holds the payload, a big-endian status code
 * then a UTF-8 reason (RFC 6455 5.5.1), both optional.  lws has already
 * replaced a code that must not appear on the wire by 1002.
 */
static void
set_close_error(WsClient *c, const unsigned char *in, size_t len)
{
	if (c->error[0])
		return;
	if (in == NULL || len < 2)
	{
		snprintf(c->error, sizeof(c->error), "websocket closed by the server (no status code)");
		return;
	}
	snprintf(c->error, sizeof(c->error), "websocket closed by the server (code %u",
			 (unsigned) ((in[0] << 8) | in[1]));
	if (len > 2)
	{
		append_printable(c->error, sizeof(c->error), ": ", 2);
		/* keep room for the closing parenthesis */
		append_printable(c->error, sizeof(c->error) - 1, in + 2, len - 2);
	}
	append_printable(c->error, sizeof(c->error), ")", 1);
}

static bool
append_partial(WsClient *c, const void *in, size_t len)
{
	if (c->partial_len + len > c->partial_cap)
	{
		size_t		cap = c->partial_cap ? c->partial_cap : 4096;
		char	   *p;

		while (cap < c->partial_len + len)
			cap *= 2;
		/* never more than the cap allows (the prefix of an oversize message aside) */
		if (cap > c->max_message && c->partial_len + len <= c->max_message)
			cap = c->max_message;
		p = realloc(c->partial, cap);
		if (p == NULL)
			return false;
		c->partial = p;
		c->partial_cap = cap;
	}
	memcpy(c->partial + c->partial_len, in, len);
	c->partial_len += len;
	return true;
}

/*
 * The message being reassembled went past max_message: keep its first
 * WS_OVERSIZE_PREFIX_BYTES (for the dead letter), give back the rest of
 * the buffer, and record the error.  The caller then drops the
 * connection: the rest of the message is never read.
 */
static void
mark_oversize(WsClient *c, const void *in, size_t len)
{
	size_t		keep = WS_OVERSIZE_PREFIX_BYTES;

	c->oversize = true;
	c->oversize_seen = c->partial_len + len;
	if (c->partial_len < keep)
	{
		size_t		more = keep - c->partial_len < len ? keep - c->partial_len : len;

		if (!append_partial(c, in, more))
			c->oom = true;
	}
	if (c->partial_len > keep)
		c->partial_len = keep;
	if (c->partial_cap > keep && c->partial_len > 0)
	{
		char	   *p = realloc(c->partial, c->partial_len);

		if (p != NULL)			/* on failure the larger buffer simply stays */
		{
			c->partial = p;
			c->partial_cap = c->partial_len;
		}
	}
	if (!c->error[0])
		snprintf(c->error, sizeof(c->error),
				 "websocket message larger than %zu bytes (gemini_etl.ws_max_message_bytes)",
				 c->max_message);
}

static bool
queue_frame(WsClient *c)
{
	Frame	   *f = malloc(sizeof(Frame) + c->partial_len + 1);

	if (f == NULL)
		return false;
	f->next = NULL;
	f->len = c->partial_len;
	memcpy(f->data, c->partial, c->partial_len);
	f->data[c->partial_len] = '\0';
	if (c->tail)
		c->tail->next = f;
	else
		c->head = f;
	c->tail = f;
	c->queued++;
	c->queued_bytes += f->len;
	c->partial_len = 0;
	return true;
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	WsClient   *c = (WsClient *) lws_get_opaque_user_data(wsi);

	(void) user;
	if (c == NULL)
		return 0;
	switch (reason)
	{
		case LWS_CALLBACK_CLIENT_ESTABLISHED:
			c->state = WS_OPEN;
			if (c->out_head)
				lws_callback_on_writable(wsi);
			break;
		case LWS_CALLBACK_CLIENT_RECEIVE:
			if (c->oversize)
				return -1;		/* already refused; nothing more is read */

			/*
			 * Refuse as soon as the message is known to be too large: the
			 * bytes so far plus this chunk, plus what the current frame's
			 * header still announces (so one huge frame is refused on its
			 * first chunk).  Written so that nothing can overflow.
			 */
			{
				size_t		room = c->max_message - c->partial_len;
				size_t		rest = lws_remaining_packet_payload(wsi);

				if (len > room || rest > room - len)
				{
					mark_oversize(c, in, len);
					return -1;
				}
			}
			if (!append_partial(c, in, len))
			{
				c->oom = true;
				return -1;
			}
			if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0)
			{
				if (!queue_frame(c))
				{
					c->oom = true;
					return -1;
				}
			}
			break;
		case LWS_CALLBACK_CLIENT_WRITEABLE:
			if (c->out_head)
			{
				Frame	   *f = c->out_head;
				int			n = lws_write(wsi, (unsigned char *) f->data + LWS_PRE, f->len, LWS_WRITE_TEXT);

				if (n < (int) f->len)
				{
					set_error(c, "websocket write failed", NULL, 0);
					return -1;
				}
				c->out_head = f->next;
				if (c->out_head == NULL)
					c->out_tail = NULL;
				free(f);
				if (c->out_head)
					lws_callback_on_writable(wsi);
			}
			break;
		case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
			set_error(c, "websocket connection failed", in, in ? strnlen(in, len ? len : 200) : 0);
			c->state = WS_CLOSED;
			c->wsi = NULL;
			break;
		case LWS_CALLBACK_CLIENT_CLOSED:
			set_error(c, "websocket closed by the server", NULL, 0);
			c->state = WS_CLOSED;
			c->wsi = NULL;
			break;
		case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
			set_close_error(c, in, len);
			break;
		case LWS_CALLBACK_WSI_DESTROY:
			if (c->state != WS_CLOSED)
				set_error(c, "websocket connection lost", NULL, 0);
			c->state = WS_CLOSED;
			c->wsi = NULL;
			break;
		default:
			break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{"gemini-etl", callback, 0, RX_BUFFER_SIZE, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0}
};

WsClient *
ws_open(const char *url, const char *ca_file, size_t max_message_bytes, char *errbuf, size_t errlen)
{
	struct lws_context_creation_info info;
	struct lws_client_connect_info cc;
	WsClient   *c;
	bool		tls;
	const char *p;
	const char *host_end;
	const char *port_colon = NULL;
	int			port;
	size_t		hostlen;

	if (strncmp(url, "wss://", 6) == 0)
	{
		tls = true;
		p = url + 6;
	}
	else if (strncmp(url, "ws://", 5) == 0)
	{
		tls = false;
		p = url + 5;
	}
	else
	{
		snprintf(errbuf, errlen, "websocket URL must start with ws:// or wss://");
		return NULL;
	}
	host_end = p + strcspn(p, "/?");
	for (const char *q = p; q < host_end; q++)
		if (*q == ':')
			port_colon = q;
	hostlen = (size_t) ((port_colon ? port_colon : host_end) - p);
	port = port_colon ? atoi(port_colon + 1) : (tls ? 443 : 80);
	c = calloc(1, sizeof(WsClient));
	if (c == NULL || hostlen == 0 || hostlen >= sizeof(c->host) || port <= 0 || port > 65535)
	{
		snprintf(errbuf, errlen, c ? "invalid host or port in websocket URL" : "out of memory");
		free(c);
		return NULL;
	}
	memcpy(c->host, p, hostlen);
	c->host[hostlen] = '\0';
	c->max_message = max_message_bytes ? max_message_bytes : WS_DEFAULT_MAX_MESSAGE_BYTES;
	snprintf(c->path, sizeof(c->path), "%s%s", *host_end == '?' ? "/" : "", *host_end ? host_end : "/");

	lws_set_log_level(0, NULL);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.gid = -1;
	info.uid = -1;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	if (ca_file && ca_file[0])
		info.client_ssl_ca_filepath = ca_file;
	c->ctx = lws_create_context(&info);
	if (c->ctx == NULL)
	{
		snprintf(errbuf, errlen, "could not create a libwebsockets context");
		free(c);
		return NULL;
	}

	memset(&cc, 0, sizeof(cc));
	cc.context = c->ctx;
	cc.address = c->host;
	cc.port = port;
	cc.path = c->path;
	cc.host = c->host;
	cc.origin = c->host;
	cc.ssl_connection = tls ? LCCSCF_USE_SSL : 0;
	cc.protocol = NULL;
	cc.opaque_user_data = c;
	cc.pwsi = &c->wsi;
	c->state = WS_CONNECTING;
	if (lws_client_connect_via_info(&cc) == NULL)
	{
		if (!c->error[0])
			set_error(c, "websocket connect failed", NULL, 0);
		c->state = WS_CLOSED;
	}
	return c;
}

static void
free_list(Frame *f)
{
	while (f)
	{
		Frame	   *n = f->next;

		free(f);
		f = n;
	}
}

void
ws_close(WsClient *c)
{
	if (c == NULL)
		return;
	if (c->ctx)
		lws_context_destroy(c->ctx);	/* closes the socket; callbacks may still run */
	free_list(c->head);
	free_list(c->out_head);
	free(c->taken);
	free(c->partial);
	free(c);
}

WsState
ws_state(WsClient *c)
{
	/* the callback returned -1; lws may not have reported the close yet */
	if (c->oversize)
		c->state = WS_CLOSED;
	if (c->oom && c->state != WS_CLOSED)
	{
		set_error(c, "out of memory receiving a websocket frame", NULL, 0);
		c->state = WS_CLOSED;
	}
	return c->state;
}

const char *
ws_error(WsClient *c)
{
	return c->error[0] ? c->error : "no error";
}

int
ws_fd(WsClient *c)
{
	return c->wsi ? (int) lws_get_socket_fd(c->wsi) : -1;
}

size_t
ws_service(WsClient *c)
{
	/*
	 * lws_service() does timers, connects and writes, but reads only a
	 * little per call.  So data is pumped directly: while the socket is
	 * readable, hand lws the readable event (lws_service_fd), then let it
	 * drain what it buffered (forced service), until a pass brings nothing.
	 */
	lws_service(c->ctx, -1);
	for (int i = 0; i < MAX_SERVICE_PASSES && c->state == WS_OPEN && c->wsi; i++)
	{
		size_t		before = c->queued_bytes + c->partial_len;
		struct lws_pollfd pfd;

		pfd.fd = lws_get_socket_fd(c->wsi);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (pfd.fd < 0 || poll(&pfd, 1, 0) <= 0)
			pfd.revents = 0;
		if (pfd.revents)
			lws_service_fd(c->ctx, &pfd);
		for (int k = 0; k < MAX_SERVICE_PASSES && lws_service_adjust_timeout(c->ctx, 1, 0) == 0; k++)
			lws_service_tsi(c->ctx, -1, 0);
		if (c->queued_bytes + c->partial_len == before && !pfd.revents)
			break;
	}
	return c->queued;
}

bool
ws_send_text(WsClient *c, const char *text)
{
	size_t		len = strlen(text);
	Frame	   *f = malloc(sizeof(Frame) + LWS_PRE + len + 1);

	if (f == NULL)
		return false;
	f->next = NULL;
	f->len = len;
	memcpy(f->data + LWS_PRE, text, len + 1);
	if (c->out_tail)
		c->out_tail->next = f;
	else
		c->out_head = f;
	c->out_tail = f;
	if (c->wsi && c->state == WS_OPEN)
		lws_callback_on_writable(c->wsi);
	return true;
}

const char *
ws_next_frame(WsClient *c, size_t *len)
{
	Frame	   *f = c->head;

	free(c->taken);
	c->taken = NULL;
	if (f == NULL)
		return NULL;
	c->head = f->next;
	if (c->head == NULL)
		c->tail = NULL;
	c->queued--;
	c->queued_bytes -= f->len;
	c->taken = f;
	*len = f->len;
	return f->data;
}

size_t
ws_queued_bytes(WsClient *c)
{
	return c->queued_bytes;
}

bool
ws_input_pending(WsClient *c)
{
	struct pollfd pfd;

	if (c->queued_bytes > 0)
		return true;
	if (c->wsi == NULL || c->state != WS_OPEN)
		return false;
	pfd.fd = lws_get_socket_fd(c->wsi);
	pfd.events = POLLIN;
	pfd.revents = 0;
	return pfd.fd >= 0 && poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN);
}

bool
ws_oversize(WsClient *c, const char **prefix, size_t *prefix_len, size_t *bytes_seen)
{
	if (!c->oversize)
		return false;
	if (prefix)
		*prefix = c->partial ? c->partial : "";
	if (prefix_len)
		*prefix_len = c->partial_len;
	if (bytes_seen)
		*bytes_seen = c->oversize_seen;
	return true;
}
