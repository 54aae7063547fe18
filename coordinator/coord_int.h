/* coord_int: what the coordinator's files share (coordinator/coord.c: the
 * event loop, membership, jobs, CLI requests; coordinator/ckpt.c:
 * checkpoints). One thread owns all of it. */
#ifndef WEIR_COORD_INT_H
#define WEIR_COORD_INT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "ckstore.h"
#include "jobs.h"
#include "membership.h"
#include "wire.h"

#define COORD_MAX_JOBS 4096
#define COORD_MAX_UPLOADS 64 /* state uploads in progress (one per keyed task snapshot) */
#define COORD_MAX_STORES 8   /* checkpoint stores open: the default one and shared paths */

typedef struct coord_upload coord_upload_t;

typedef struct {
    void *zctx, *router;
    char data_dir[PATH_MAX];
    weir_members_t members;
    weir_jobrec_t *jobs[COORD_MAX_JOBS];
    uint32_t n_jobs;
    uint32_t next_seq;
    int64_t hb_interval_ms, hb_timeout_ms;
    /* checkpoints (coordinator/ckpt.c) */
    weir_ckstore_t *stores[COORD_MAX_STORES]; /* [0]: DATA_DIR/checkpoints */
    uint32_t n_stores;
    coord_upload_t *uploads[COORD_MAX_UPLOADS];
} coord_t;

weir_jobrec_t *coord_find_job(coord_t *c, const char *id);
void coord_persist_job(coord_t *c, const weir_jobrec_t *r);
void coord_send_cancel(coord_t *c, weir_jobrec_t *r, const char *reason);
/* Sends env to every live node that runs a task of r's attempt (only those
 * with a source task when sources_only). */
void coord_send_job_nodes(coord_t *c, const weir_jobrec_t *r, Weir__V1__Envelope *env,
                          bool sources_only);
void coord_reply(coord_t *c, const void *rid, size_t rid_len, Weir__V1__Reply *rep);
void coord_reply_error(coord_t *c, const void *rid, size_t rid_len, const char *msg);
/* The job of that id, or NULL after replying that there is none. */
weir_jobrec_t *coord_job_or_reply(coord_t *c, const void *rid, size_t rid_len, const char *id);

/* ---- checkpoints (coordinator/ckpt.c) ---------------------------------- */

/* Opens the default store under DATA_DIR/checkpoints. 0 or an error with
 * err filled. */
int coord_ck_init(coord_t *c, char *err, size_t err_cap);
void coord_ck_fini(coord_t *c);

/* The store of job spec (its checkpoint.storage, or the default); NULL
 * with err filled when it cannot be opened. */
weir_ckstore_t *coord_ck_store(coord_t *c, const weir_job_t *spec, char *err, size_t err_cap);

/* A job attempt was deployed: makes its checkpoint state machine
 * (continuing the ids after last_id when it was restored). 0 or -ENOMEM. */
int coord_ck_attempt_started(coord_t *c, weir_jobrec_t *r, uint64_t last_id);

/* Runs every running job's state machine: triggers, metadata, completion,
 * aborts, savepoints that stop their job. Call often (every loop). */
void coord_ck_tick(coord_t *c);

/* A task of r's current attempt changed state (finished or failed). */
void coord_ck_task_state(coord_t *c, weir_jobrec_t *r, uint32_t task, int state);

/* Control messages of checkpoints. */
void coord_ck_on_ack(coord_t *c, const Weir__V1__CheckpointAck *a);
void coord_ck_on_offer(coord_t *c, const void *rid, size_t rid_len, const Weir__V1__StateOffer *o);
void coord_ck_on_chunk(coord_t *c, const void *rid, size_t rid_len, const Weir__V1__StateChunk *ch);
void coord_ck_on_fetch(coord_t *c, const void *rid, size_t rid_len, const Weir__V1__FetchBlob *f);

/* CLI requests. */
void coord_ck_on_savepoint(coord_t *c, const void *rid, size_t rid_len,
                           const Weir__V1__SavepointReq *q);
/* weir rebalance: a savepoint, then attempt + 1 over every live node from it. */
void coord_ck_on_rebalance(coord_t *c, const void *rid, size_t rid_len, const char *job);
void coord_ck_on_list(coord_t *c, const void *rid, size_t rid_len, const char *job);
void coord_ck_on_delete(coord_t *c, const void *rid, size_t rid_len, const char *id);

/* Submit --from-savepoint ID: loads the checkpoint ID ("JOB/N" or "JOB")
 * and checks it fits spec; on success r gets restore_meta/restored_from
 * and *last_id its id. 0, or an error with err filled. */
int coord_ck_prepare_restore(coord_t *c, weir_jobrec_t *r, const char *id, uint64_t *last_id,
                             char *err, size_t err_cap);

/* Fills ji's checkpoint fields (latest completed, counters, restored from). */
void coord_ck_fill_job(const weir_jobrec_t *r, Weir__V1__JobInfo *ji,
                       Weir__V1__CheckpointInfo *latest);

#endif
