/*
 * Every daemon's control commands, in one place: the daemon builds its
 * dispatch table from its list (common/ctl.h), and mipsactl prints all of
 * them offline for "mipsactl help" with no socket.  X(name, args, help,
 * run): run is the daemon's function, NULL for a command the daemon layer
 * answers before the table (keys: a bare text answer for Wireshark).
 */
#ifndef MIPSA_CTL_CMDS_H
#define MIPSA_CTL_CMDS_H

#define FA_CTL_CMDS(X)                                                                             \
	X(status, "", "addresses, access interface, visitor count, then visitors and counters",    \
	  fa_cmd_status)                                                                           \
	X(visitors, "", "the visitor list", fa_cmd_visitors)                                       \
	X(counters, "",                                                                            \
	  "counters, rcvbuf_drops, delivery_mtu_counters, reverse_tunnel_mtu_counters",            \
	  fa_cmd_counters)                                                                         \
	X(sas, "",                                                                                 \
	  "ISAKMP and IPsec SAs, ike_counters, esp_counters, local_mtu_counters, reuse_counters",  \
	  fa_cmd_sas)                                                                              \
	X(keys, "[esp]", "Wireshark's IKEv1 decryption table, or with esp its ESP SA table", NULL) \
	X(reload, "[check]",                                                                       \
	  "re-reads the configuration file and applies what changed; with check, only compares",   \
	  NULL)

#define HA_CTL_CMDS(X)                                                                             \
	X(status, "", "address, mobile nodes, active bindings, then bindings and counters",        \
	  ha_cmd_status)                                                                           \
	X(bindings, "", "the mobility bindings", ha_cmd_bindings)                                  \
	X(counters, "", "counters, rcvbuf_drops, tunnel_mtu_counters", ha_cmd_counters)            \
	X(reload, "[check]",                                                                       \
	  "re-reads the configuration file and applies what changed; with check, only compares",   \
	  NULL)

#define MN_CTL_CMDS(X)                                                                             \
	X(status, "", "state and counters", mn_cmd_status)                                         \
	X(state, "", "state, home address and agent, current agent, registration", mn_cmd_state)   \
	X(counters, "", "counters, rcvbuf_drops", mn_cmd_counters)                                 \
	X(reregister, "", "sends a new registration through the current agent", mn_cmd_reregister) \
	X(mtu, "", "the link's MTU, the tunnel device and its MTU, mtu_counters", mn_cmd_mtu)      \
	X(sas, "", "ISAKMP and IPsec SAs, ike_counters, esp_counters", mn_cmd_sas)                 \
	X(keys, "[esp]", "Wireshark's IKEv1 decryption table, or with esp its ESP SA table", NULL) \
	X(reload, "[check]",                                                                       \
	  "re-reads the configuration file and applies what changed; with check, only compares",   \
	  NULL)

#define DBS_CTL_CMDS(X)                                                                            \
	X(status, "", "address, port, data directory, records, log size, members, then counters",  \
	  dbs_cmd_status)                                                                          \
	X(counters, "", "counters, rcvbuf_drops", dbs_cmd_counters)                                \
	X(records, "", "each record's node, writer, expiry and size (never key material)",         \
	  dbs_cmd_records)                                                                         \
	X(reload, "[check]",                                                                       \
	  "re-reads the configuration file and applies what changed; with check, only compares",   \
	  NULL)

/* One row of a daemon's dispatch table (struct ctl_cmd). */
#define CTL_CMD_ROW(name, args, help, run) {#name, args, help, run},

#endif
