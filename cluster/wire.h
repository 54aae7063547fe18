/* wire: the only module that packs and unpacks protobuf (proto/weir.proto).
 *
 * Control plane messages are Weir__V1__Envelope values built by the caller
 * with the generated structs and sent with weir_wire_send(); received bytes
 * become an Envelope with weir_wire_decode(), which refuses another
 * protocol major version (WEIR_EVERSION) and malformed bytes (WEIR_EPROTO).
 *
 * Data plane: a frame is one ZeroMQ message of two parts: a DataEnvelope
 * (header: job, attempt, channel, seq, watermark, end of stream) and the
 * packed Batch (empty part when there is none). Packing a batch copies each
 * column once (protobuf-c packs fixed-width repeated fields with memcpy on
 * little-endian machines); decoding uses a per-thread arena so no frame
 * allocates from the heap after warm-up.
 *
 * Bounds: every size read from the wire is checked against the receiving
 * batch's capacity and schema before anything is copied.
 */
#ifndef WEIR_WIRE_H
#define WEIR_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "ckmeta.h"
#include "taskstats.h"
#include "weir.pb-c.h"

#define WEIR_PROTO_MAJOR 1
#define WEIR_WIRE_MAX_MSG (64u << 20) /* largest message accepted from a peer */

/* Sends env (its version field is set here) on a ZeroMQ socket; when
 * rid != NULL a routing-id part goes first (ROUTER sockets). 0 or -errno.
 * Thread: the socket's owner. */
int weir_wire_send(void *sock, const void *rid, size_t rid_len, Weir__V1__Envelope *env);

/* Decodes a control message. On success *out must be freed with
 * weir_wire_free(). WEIR_EPROTO or WEIR_EVERSION (then *out untouched). */
int weir_wire_decode(const void *data, size_t len, Weir__V1__Envelope **out);
void weir_wire_free(Weir__V1__Envelope *env);
/* Frees a Reply detached from a decoded Envelope. */
void weir_wire_free_reply(Weir__V1__Reply *rep);

/* TaskStats <-> weir_task_stats_t. to_pb points pb's strings at job and
 * at s->error (they must outlive pb); from_pb copies (the error is cut to
 * fit). kind is not on the wire (the plan knows it). */
void weir_wire_stats_to_pb(const weir_task_stats_t *s, const char *job, uint32_t attempt,
                           Weir__V1__TaskStats *pb);
void weir_wire_stats_from_pb(const Weir__V1__TaskStats *pb, weir_task_stats_t *s);

/* Header of one data frame. */
typedef struct {
    char job[64];
    uint32_t attempt;
    uint32_t channel;
    uint64_t seq;
    bool has_watermark;
    int64_t watermark_ms;
    bool end_of_stream;
    uint32_t backlog;
    uint64_t ingest_us; /* wall clock when the row behind the watermark entered the source */
    bool idle;          /* the sending split is idle (DataFrame.idle) */
    uint64_t barrier;   /* checkpoint barrier id, or 0 (DataFrame.barrier) */
} weir_frame_hdr_t;

/* Reusable buffers for packing frames; one per sending thread. */
typedef struct weir_wire_scratch weir_wire_scratch_t;
weir_wire_scratch_t *weir_wire_scratch_new(void);
void weir_wire_scratch_destroy(weir_wire_scratch_t **s);

/* Sends one data frame: header, then batch b (NULL or empty = no batch).
 * rid as in weir_wire_send (NULL for DEALER). 0 or -errno. */
int weir_wire_send_frame(void *sock, const weir_frame_hdr_t *h, const weir_batch_t *b,
                         weir_wire_scratch_t *s);

/* Sends a Credit (receiver -> sender) or Hello (sender -> receiver). */
int weir_wire_send_credit(void *sock, const void *rid, size_t rid_len, const char *job,
                          uint32_t attempt, uint32_t channel, uint32_t credits);
int weir_wire_send_hello(void *sock, const char *job, uint32_t attempt, const uint32_t *channels,
                         size_t n_channels);

/* A decoded data-plane header part. */
typedef enum { WEIR_DATA_FRAME = 1, WEIR_DATA_CREDIT = 2, WEIR_DATA_HELLO = 3 } weir_data_kind_t;
typedef struct {
    weir_data_kind_t kind;
    weir_frame_hdr_t frame;  /* FRAME */
    bool has_batch;          /* FRAME */
    char job[64];            /* CREDIT, HELLO */
    uint32_t attempt;        /* CREDIT, HELLO */
    uint32_t channel;        /* CREDIT */
    uint32_t credits;        /* CREDIT */
    uint32_t n_channels;     /* HELLO, <= 4096 */
    uint32_t channels[4096]; /* HELLO */
} weir_data_msg_t;

/* Decodes the first part of a data-plane message. 0, WEIR_EPROTO or
 * WEIR_EVERSION. */
int weir_wire_decode_data(const void *data, size_t len, weir_data_msg_t *out);

/* Decodes a packed Batch into b (cleared first). The batch's schema (column
 * count and types) must match and the row count must fit: else WEIR_EPROTO
 * and b is left empty. */
int weir_wire_decode_batch(const void *data, size_t len, weir_batch_t *b);

/* Frees the calling thread's decode arena; call before a thread that
 * decoded batches exits. */
void weir_wire_thread_cleanup(void);

/* ---- checkpoints ------------------------------------------------------ */

/* Packs checkpoint metadata (CheckpointMeta, format 1) into a new buffer:
 * *out (free() it) of *len bytes. 0 or -ENOMEM. Any thread. */
int weir_wire_ckmeta_pack(const weir_ck_meta_t *m, uint8_t **out, size_t *len);

/* Decodes what weir_wire_ckmeta_pack wrote into *m (weir_ck_meta_clear
 * frees it). WEIR_EPROTO when the bytes are not a CheckpointMeta of format
 * 1 or break a bound (more than WEIR_WIRE_MAX_MSG bytes, WEIR_CK_MAX_TASKS
 * tasks or WEIR_CK_MAX_FILES files, a job id or file name that is not a
 * safe name, a column family name too long, a hash that is not 32 bytes);
 * -ENOMEM. On failure *m is zeroed. Any thread. */
int weir_wire_ckmeta_unpack(const void *data, size_t len, weir_ck_meta_t *m);

/* weir_ck_task_snap_t -> TaskSnapshot, for messages that carry one (the
 * acknowledgement of a checkpoint). pb's strings and hashes point into s
 * (s must outlive pb); the file array is allocated: free it with
 * weir_wire_cksnap_pb_release(). 0 or -ENOMEM. */
int weir_wire_cksnap_to_pb(const weir_ck_task_snap_t *s, Weir__V1__TaskSnapshot *pb);
void weir_wire_cksnap_pb_release(Weir__V1__TaskSnapshot *pb);

/* TaskSnapshot -> weir_ck_task_snap_t (copied, bounded as in
 * weir_wire_ckmeta_unpack). 0, WEIR_EPROTO or -ENOMEM; on failure *s is
 * zeroed. weir_ck_snap_clear frees it. */
int weir_wire_cksnap_from_pb(const Weir__V1__TaskSnapshot *pb, weir_ck_task_snap_t *s);

#endif
