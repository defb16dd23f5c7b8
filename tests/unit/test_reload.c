/*
 * Reload (common/reload.c, common/ike_reload.c): what reload_run makes of a
 * daemon's answer (a setting that takes a restart refuses the whole file;
 * check only compares), and an IKE engine under a new configuration, with
 * two engines in one process (tests/unit/ike_pair.c): established SAs
 * follow their peer to its new entry and keep working, a peer no longer
 * configured loses its SAs with a Delete, new proposals apply to the next
 * negotiation.
 */
#include "check_main.h"
#include "ctl.h"
#include "ike_int.h"
#include "ike_pair.h"
#include "reload.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- reload_run ---- */

struct fake {
	int calls;
	bool dry_seen;
	bool restart, fail;
	const char *changed;
};

static int fake_reload(void *arg, bool dry, struct reload_diff *rd, char *err, size_t errlen)
{
	struct fake *f = arg;

	f->calls++;
	f->dry_seen = dry;
	if (f->fail) {
		snprintf(err, errlen, "x.conf:3: syntax error");
		return -1;
	}
	if (f->changed != NULL)
		reload_changed(rd, f->changed);
	if (f->restart)
		reload_restart(rd, "care_of_address");
	return 0;
}

START_TEST(test_run_applies_and_answers)
{
	struct fake f = {.changed = "log_level"};
	struct ctl_out o;
	char err[256];

	ctl_out_init(&o, true);
	ctl_obj_begin(&o, NULL);
	ck_assert_int_eq(reload_run(fake_reload, &f, false, &o, err, sizeof(err)), 0);
	ctl_obj_end(&o);
	ck_assert_int_eq(f.calls, 1);
	ck_assert(!f.dry_seen);
	ck_assert_str_eq(ctl_out_str(&o), "{\"reload\":\"applied\",\"changed\":\"log_level\"}\n");
	ctl_out_free(&o);
}
END_TEST

START_TEST(test_run_refuses_restart_only)
{
	struct fake f = {.changed = "log_level", .restart = true};
	char err[256];

	ck_assert_int_eq(reload_run(fake_reload, &f, false, NULL, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "care_of_address: changed, and only a restart takes it");
}
END_TEST

START_TEST(test_run_passes_file_error)
{
	struct fake f = {.fail = true};
	char err[256];

	ck_assert_int_eq(reload_run(fake_reload, &f, false, NULL, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "x.conf:3: syntax error");
}
END_TEST

START_TEST(test_ctl_check_is_dry)
{
	struct fake f = {.changed = "max_lifetime"};
	char *check[] = {"reload", "check"}, *bad[] = {"reload", "now"};
	struct ctl_out o;
	char err[256];

	ctl_out_init(&o, true);
	ck_assert_int_eq(reload_ctl("mipsa-fa", fake_reload, &f, 2, check, &o, err, sizeof(err)),
			 0);
	ck_assert(f.dry_seen);
	ck_assert_ptr_nonnull(strstr(ctl_out_str(&o), "\"reload\":\"checked\""));
	ck_assert_int_eq(reload_ctl("mipsa-fa", fake_reload, &f, 2, bad, &o, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "usage: reload [check]");
	ck_assert_int_eq(f.calls, 1);
	ctl_out_free(&o);
}
END_TEST

START_TEST(test_list_cut_short)
{
	struct reload_diff rd = {{0}, {0}};
	char name[40];

	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "setting_number_%02d", i);
		reload_changed(&rd, name);
	}
	ck_assert_uint_lt(strlen(rd.changed), RELOAD_LIST_MAX);
	ck_assert_ptr_nonnull(strstr(rd.changed, "..."));
	ck_assert_ptr_nonnull(strstr(rd.changed, "setting_number_00, setting_number_01"));
}
END_TEST

/* ---- an IKE engine under a new configuration ---- */

#define LOG_CAP 64
static struct ike_pair_msg msglog[LOG_CAP];

static struct ike_pair *established(void)
{
	struct ike_pair *p = ike_pair_new(msglog, LOG_CAP);

	ck_assert_ptr_nonnull(p);
	ike_pair_start(p);
	ike_pair_establish(p);
	ck_assert_uint_eq(ike_pair_ctr(p, 1)->children_established, 1);
	return p;
}

/* The responder's peer entry, as a reload with a new PSK makes it; the old one poisoned. */
START_TEST(test_repeer_follows_new_entry)
{
	struct ike_pair *p = established();
	struct ike_peer *fresh = malloc(sizeof(*fresh));
	struct ike_sa *sa;

	ck_assert_ptr_nonnull(fresh);
	*fresh = p->side[1].peer;
	memcpy(fresh->psk, "rotated", 7);
	fresh->psk_len = 7;
	p->side[1].peer_now = fresh;
	ck_assert_uint_eq(ike_engine_repeer(p->side[1].eng), 0);
	sa = ike_sa_find_peer(p->side[1].eng, p->side[0].addr);
	ck_assert_ptr_nonnull(sa);
	ck_assert_ptr_eq(sa->peer_cfg, fresh);
	/* The old entry is freed by the daemon now: nothing may read it. */
	memset(&p->side[1].peer, 0xa5, sizeof(p->side[1].peer));
	/* The established ISAKMP SA still works: a Quick Mode under it, checked against the new
	 * entry. */
	ck_assert_int_eq(ike_quick_mode(p->side[0].eng, p->side[1].addr), 0);
	ike_pair_pump(p);
	ck_assert_uint_eq(ike_pair_ctr(p, 1)->children_established, 2);
	ck_assert_uint_eq(ike_pair_ctr(p, 1)->ike_established, 1);
	ike_pair_delete(p);
	free(fresh);
}
END_TEST

/* A peer taken out of the file loses its SAs, and the other end hears a Delete. */
START_TEST(test_repeer_deletes_removed_peer)
{
	struct ike_pair *p = established();

	p->side[1].peer_gone = true;
	ck_assert_uint_eq(ike_engine_repeer(p->side[1].eng), 1);
	ck_assert_ptr_null(ike_sa_find_peer(p->side[1].eng, p->side[0].addr));
	ck_assert_uint_eq(ike_pair_children(p, 1), 0);
	ike_pair_pump(p);
	ck_assert_uint_ge(ike_pair_ctr(p, 0)->deletes_received, 1);
	ck_assert_uint_eq(ike_pair_children(p, 0), 0);
	ike_pair_delete(p);
}
END_TEST

/* Pairs whose ISAKMP SA is gone already go too when their peer is removed. */
START_TEST(test_repeer_deletes_orphan_pairs)
{
	struct ike_pair *p = established();
	struct ike_sa *sa = ike_sa_find_peer(p->side[1].eng, p->side[0].addr);

	ike_sa_destroy(sa, "test: ISAKMP SA gone");
	ck_assert_uint_eq(ike_pair_children(p, 1), 1);
	p->side[1].peer_gone = true;
	ck_assert_uint_eq(ike_engine_repeer(p->side[1].eng), 1);
	ck_assert_uint_eq(ike_pair_children(p, 1), 0);
	ike_pair_delete(p);
}
END_TEST

/*
 * New proposals apply to the next negotiation: a responder reconfigured to
 * AES-256 only refuses the initiator's AES-128 offer; the SAs it has stay.
 */
START_TEST(test_reconfigure_new_proposals)
{
	struct ike_pair *p = ike_pair_new(msglog, LOG_CAP);
	struct ike_config cfg;
	uint64_t refused;

	ck_assert_ptr_nonnull(p);
	p->side[0].cfg.n_p1 = 1; /* the initiator offers one proposal ... */
	ike_pair_start(p);
	ike_pair_establish(p);
	ck_assert_uint_eq(ike_pair_ctr(p, 1)->ike_established, 1);
	/* ... and the responder now takes only another key length */
	cfg = p->side[1].cfg;
	cfg.n_p1 = 1;
	cfg.p1[0] = p->side[0].cfg.p1[0];
	cfg.p1[0].key_bits = cfg.p1[0].key_bits == 256 ? 128 : 256;
	ike_engine_reconfigure(p->side[1].eng, &cfg);
	refused = ike_pair_ctr(p, 1)->drop_no_proposal;
	ck_assert_ptr_nonnull(ike_initiate(p->side[0].eng, &p->side[0].peer, p->side[0].addr));
	ike_pair_pump(p);
	ck_assert_uint_eq(ike_pair_ctr(p, 1)->drop_no_proposal, refused + 1);
	ck_assert_uint_eq(ike_pair_ctr(p, 1)->ike_established, 1);
	ck_assert_uint_eq(ike_pair_children(p, 1), 1);
	ike_pair_delete(p);
}
END_TEST

static Suite *reload_suite(void)
{
	Suite *s = suite_create("reload");
	TCase *tc = tcase_create("run");

	tcase_add_test(tc, test_run_applies_and_answers);
	tcase_add_test(tc, test_run_refuses_restart_only);
	tcase_add_test(tc, test_run_passes_file_error);
	tcase_add_test(tc, test_ctl_check_is_dry);
	tcase_add_test(tc, test_list_cut_short);
	suite_add_tcase(s, tc);
	tc = tcase_create("ike");
	tcase_add_test(tc, test_repeer_follows_new_entry);
	tcase_add_test(tc, test_repeer_deletes_removed_peer);
	tcase_add_test(tc, test_repeer_deletes_orphan_pairs);
	tcase_add_test(tc, test_reconfigure_new_proposals);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(reload_suite());
}
