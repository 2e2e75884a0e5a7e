/* learn.h - learn mode: what devices do, and a policy that allows it.
 *
 * A device in learn mode (its `mode: learn`, or forced at run time with
 * policy_set_learn(): `iotjailctl learn start`, `iotjaild --replay
 * --learn`) is never blocked and raises no alert; the recorder keeps, per
 * device and per direction (OUT: it started the flow; IN: it served it),
 * the services it used and with whom, and learn_export() writes them as a
 * policy to review and then enforce (docs/learn.md):
 *
 *   learn_flow() per decided flow ─► devices ─► services ─► remote sides
 *   learn_export() ─► generalise (export.h) ─► group alike devices ─► YAML
 *
 * What is recorded, per learned device: its identity (the declared name;
 * for undeclared machines, one device per MAC, or per address when no MAC
 * was seen), the addresses and MACs it used, its bridge port; per service
 * (nDPI's protocol, or the transport and port when nDPI only guessed or
 * could not tell), the remote sides (host names from SNI / HTTP Host,
 * addresses, the LAN device on the other side), flows, first and last
 * seen, bytes at decision, and the intervals between its reports.
 *
 * Every table has a cap; what does not fit is counted, generalised where
 * that keeps the policy covering what was seen (too many addresses: `wan`),
 * and always said in the export's comments.
 *
 * Thread-safe: one mutex (learn_flow runs once per decided flow, from any
 * worker; never per packet).  Nothing points into a policy after a call
 * returns, so reloads need no care.
 */
#ifndef IOTJAIL_LEARN_H
#define IOTJAIL_LEARN_H

#include <stddef.h>
#include <stdio.h>

struct learn;
struct policy;
struct watch;
struct watch_flow;

/* NULL with errno. */
struct learn *learn_new(void);
void learn_free(struct learn *l);	/* NULL is a no-op */

/*
 * A decided flow (the struct the watcher gets).  Recorded for each LAN side
 * whose device is in learn mode (policy_device_mode() == POLICY_MODE_LEARN).
 * A flow judged again after a reload (wf->again) was recorded when first
 * decided and is skipped.
 */
void learn_flow(struct learn *l, const struct watch_flow *wf);

/* Forget what was learnt about DEVICE (NULL: everything), so `learn start`
 * begins afresh.  DEVICE is a declared name, "unknown" (every undeclared
 * machine), or a name learn_export() gave a machine ("dev-02-00-...").
 * Other devices' rules that name it keep its address. */
void learn_reset(struct learn *l, const char *device);

/* Devices with something learnt (for status). */
size_t learn_device_count(struct learn *l);

/*
 * Write a policy (YAML) for the learned devices, or only DEVICE (a name as
 * for learn_reset(), but not "unknown"), to OUT.  P is the running policy:
 * its `lan`, its inspection budget, the declarations of the devices it
 * names.  W (may be NULL) supplies the bytes per device the watcher counted
 * (watch_foreach_service) for the comments; it is read before the
 * recorder is locked, and must not be locked by the caller.
 * With nothing learnt at all the policy has no device (it is still valid).
 * 0, -ENOENT (nothing learnt about DEVICE), -EIO (OUT failed), -ENOMEM,
 * -EINVAL.
 */
int learn_export(struct learn *l, const struct policy *p, struct watch *w,
		 const char *device, FILE *out);

#endif
