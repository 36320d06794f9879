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

/* Parse ws:// or wss:// URL and start connecting.  NULL + errbuf on a bad URL or no memory. */
extern WsClient *ws_open(const char *url, const char *ca_file, char *errbuf, size_t errlen);
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

#endif
