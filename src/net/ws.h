/*
 * ws.h
 *	  Websocket client transport on libwebsockets, for the stream worker.
 *
 * Bytes in, text frames out: it knows nothing of Gemini or the tables.
 * The worker owns the loop: it waits on its latch and on ws_fd() together,
 * then calls ws_service(), then takes frames with ws_next_frame().
 */
#ifndef GEMINI_WS_CLIENT_H
#define GEMINI_WS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct WsClient WsClient;

typedef enum WsState
{
	WS_CONNECTING,
	WS_OPEN,
	WS_CLOSED					/* closed or failed; see ws_error() */
} WsState;

/* max_message_bytes used when ws_open is given 0 */
#define WS_DEFAULT_MAX_MESSAGE_BYTES ((size_t) 16 * 1024 * 1024)
/* How much of an oversize message is kept for ws_oversize() (dead letter). */
#define WS_OVERSIZE_PREFIX_BYTES 4096

/*
 * Parse ws:// or wss:// URL and start connecting.  NULL + errbuf on a bad URL
 * or no memory.  max_message_bytes caps one reassembled message (all its
 * fragments); 0 means WS_DEFAULT_MAX_MESSAGE_BYTES, never "unlimited",
 * since an endless fragmented message would otherwise grow the backend
 * until the OOM killer ends it.  A message past the cap closes the
 * connection (see ws_oversize).
 */
extern WsClient *ws_open(const char *url, const char *ca_file, size_t max_message_bytes,
						 char *errbuf, size_t errlen);
extern void ws_close(WsClient *c);

extern WsState ws_state(WsClient *c);
extern const char *ws_error(WsClient *c);
/* Socket to wait on, -1 while there is none yet. */
extern int	ws_fd(WsClient *c);
/* Do pending network work without blocking; returns the number of frames now queued. */
extern size_t ws_service(WsClient *c);
/* Queue a text frame to send (copied). */
extern bool ws_send_text(WsClient *c, const char *text);
/*
 * Take the oldest complete received text frame, or NULL.  The pointer stays
 * valid until the next call of ws_next_frame or ws_close.
 */
extern const char *ws_next_frame(WsClient *c, size_t *len);
/* Bytes of received frames waiting to be taken (for backpressure). */
extern size_t ws_queued_bytes(WsClient *c);
/* Is there more to read: whole frames queued, or bytes waiting on the socket? */
extern bool ws_input_pending(WsClient *c);

/*
 * Whether the connection was closed because a message grew past
 * max_message_bytes.  If so, *prefix and *prefix_len get the message's first
 * bytes (at most WS_OVERSIZE_PREFIX_BYTES, raw: not NUL-terminated, possibly
 * cut inside a UTF-8 sequence, possibly with NUL bytes; valid until
 * ws_close) and *bytes_seen how many of its bytes had arrived when reading
 * stopped (fewer than the cap when a frame header already announced too
 * many).  Any out pointer may be NULL.  Frames queued before that message are still delivered by
 * ws_next_frame first, and ws_error() names the limit.
 */
extern bool ws_oversize(WsClient *c, const char **prefix, size_t *prefix_len, size_t *bytes_seen);

#endif
