#!/bin/sh
# The example configurations are valid; broken ones stop each daemon with
# exit status 1 and a message naming the file, the line and the setting.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${MIPSA_BIN:-$(pwd)}
[ -x "$bin/ha/mipsa-ha" ] || bin=$top
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

check_ok() {
	if ! out=$("$bin/$1/mipsa-$1" -t -c "$2" 2>&1); then
		echo "FAIL: $2 should be valid: $out"
		fails=$((fails + 1))
	fi
}

# expect DAEMON NAME PATTERN < config: "-t" (check only) exits 1, stderr matches PATTERN (grep -E)
expect() {
	daemon=$1 name=$2 pattern=$3
	cat >"$tmp/$name.conf"
	out=$("$bin/$daemon/mipsa-$daemon" -t -c "$tmp/$name.conf" 2>&1)
	rc=$?
	if [ "$rc" -ne 1 ]; then
		echo "FAIL: $name: exit status $rc, want 1 ($out)"
		fails=$((fails + 1))
	elif ! printf '%s\n' "$out" | grep -Eq "$pattern"; then
		echo "FAIL: $name: message '$out' does not match '$pattern'"
		fails=$((fails + 1))
	else
		echo "ok: $name: $out"
	fi
}

for d in ha fa mn; do
	check_ok "$d" "$top/conf/$d.conf"
done

K=00112233445566778899aabbccddeeff
expect ha syntax "$tmp/syntax.conf:3: syntax error" <<CONF
ha: {
  address = "198.18.100.1"
  home_prefix = ;
};
CONF
expect ha missing-group "$tmp/missing-group.conf: setting 'ha': missing" <<CONF
# nothing but a comment
CONF
expect ha other-group "$tmp/other-group.conf:1: setting 'fa': unknown$" <<CONF
fa: { };
CONF
expect ha bad-address "$tmp/bad-address.conf:2: setting 'ha.address': '198.18.100.300' is not an IPv4 address" <<CONF
ha: {
  address = "198.18.100.300";
  home_prefix = "198.18.100.0/24";
  mobile_nodes = ();
};
CONF
expect ha range "$tmp/range.conf:4: setting 'ha.max_lifetime': 0 is outside 1..65534" <<CONF
ha: {
  address = "198.18.100.1";
  home_prefix = "198.18.100.0/24";
  max_lifetime = 0;
  mobile_nodes = ();
};
CONF
expect ha spi "$tmp/spi.conf:5: setting 'ha.mobile_nodes.\[0\].spi': 255 is outside 256" <<CONF
ha: {
  address = "198.18.100.1";
  home_prefix = "198.18.100.0/24";
  mobile_nodes = ( { home_address = "198.18.100.10";
    spi = 255; key = "$K"; } );
};
CONF
expect ha short-key "$tmp/short-key.conf:5: setting 'ha.mobile_nodes.\[0\].key': expected 16 to 64 bytes of hex" <<CONF
ha: {
  address = "198.18.100.1";
  home_prefix = "198.18.100.0/24";
  mobile_nodes = ( { home_address = "198.18.100.10"; spi = 300;
    key = "0011"; } );
};
CONF
expect fa missing "$tmp/missing.conf:1: setting 'fa.care_of_address': missing" <<CONF
fa: {
  access_interface = "acc0";
  alias_address = "198.19.0.1";
};
CONF
expect fa type "$tmp/type.conf:5: setting 'fa.reverse_tunnel': expected true or false" <<CONF
fa: {
  access_interface = "acc0";
  alias_address = "198.19.0.1";
  care_of_address = "198.18.11.2";
  reverse_tunnel = "yes";
};
CONF
expect fa adv-lifetime "$tmp/adv-lifetime.conf:6: setting 'fa.advertisement_lifetime': shorter than" <<CONF
fa: {
  access_interface = "acc0";
  alias_address = "198.19.0.1";
  care_of_address = "198.18.11.2";
  advertisement_interval_ms = 5000;
  advertisement_lifetime = 2;
};
CONF
expect fa delivery "$tmp/delivery.conf:5: setting 'fa.visitor_delivery': 'tunnel' is not link or route" <<CONF
fa: {
  access_interface = "acc0";
  alias_address = "198.19.0.1";
  care_of_address = "198.18.11.2";
  visitor_delivery = "tunnel";
};
CONF
expect fa delivery-ipsec "visitor_delivery = \"route\" is for an IPsec gateway beside mipsa-fa" <<CONF
fa: {
  access_interface = "acc0";
  alias_address = "198.19.0.1";
  care_of_address = "198.18.11.2";
  visitor_delivery = "route";
  ipsec = {
    local_id = "fa.example";
    peers = ( { address = "198.18.100.10"; id = "mn1@home.example"; psk = "$K"; } );
  };
};
CONF
expect mn log-level "$tmp/log-level.conf:5: setting 'mn.log_level': 'loud' is not one of" <<CONF
mn: {
  interface = "eth0";
  home_address = "198.18.100.10";
  home_agent = "198.18.100.1";
  log_level = "loud";
  ha_security = { spi = 1001; key = "$K"; };
};
CONF
expect mn no-security "$tmp/no-security.conf:1: setting 'mn.ha_security': missing" <<CONF
mn: {
  interface = "eth0";
  home_address = "198.18.100.10";
  home_agent = "198.18.100.1";
};
CONF
expect mn sa-reuse "$tmp/sa-reuse.conf:5: setting 'mn.sa_reuse': expected true or false" <<CONF
mn: {
  interface = "eth0";
  home_address = "198.18.100.10";
  home_agent = "198.18.100.1";
  sa_reuse = "yes";
  ha_security = { spi = 1001; key = "$K"; };
};
CONF

# ---- SA reuse: mipsa-fa's domain group, the store, mipsa-dbs ----
key() {
	od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$tmp/$1"
	chmod 600 "$tmp/$1"
}
key k_sa
key k_db
printf '0123' >"$tmp/k_short"
printf '%064d' 0 | tr 0 g >"$tmp/k_nothex"
printf 'a redis password\n' >"$tmp/redis-pass"
chmod 600 "$tmp/k_short" "$tmp/k_nothex" "$tmp/redis-pass"

# conf/fa.conf's domain group, uncommented, with real key files: valid, and read
sed -e '/^  #domain = {$/,/^  #};$/ s/^  #/  /' -e "s|/etc/mipsa/|$tmp/|g" \
	"$top/conf/fa.conf" >"$tmp/fa-example-domain.conf"
if ! grep -q '^  domain = {$' "$tmp/fa-example-domain.conf" ||
	! grep -q '^    store = {$' "$tmp/fa-example-domain.conf"; then
	echo "FAIL: conf/fa.conf has no commented-out domain group (with a store) to try"
	fails=$((fails + 1))
fi
check_ok fa "$tmp/fa-example-domain.conf"
line=$(grep -n '^    reuse = ' "$tmp/fa-example-domain.conf" | cut -d: -f1)
# (expect reads a file, not a pipe: a pipe's subshell would lose the count of failures)
sed 's/^    reuse = "full";/    reuse = "most";/' "$tmp/fa-example-domain.conf" >"$tmp/most.in"
expect fa example-domain "$tmp/example-domain.conf:$line: setting 'fa.domain.reuse': 'most' is not" <"$tmp/most.in"
# conf/dbs.conf with a key file that exists
sed "s|/etc/mipsa/k_db|$tmp/k_db|" "$top/conf/dbs.conf" >"$tmp/dbs-example.conf"
check_ok dbs "$tmp/dbs-example.conf"

# fa_domain NAME: an FA configuration whose domain group (line 5) holds stdin
fa_domain() {
	{
		printf 'fa: {\n  access_interface = "acc0";\n  alias_address = "198.19.0.1";\n'
		printf '  care_of_address = "198.18.11.2";\n  domain = {\n'
		cat
		printf '  };\n};\n'
	} >"$tmp/$1.conf"
}
# every setting, the store on mipsa-dbs
fa_domain domain-dbs <<CONF
    reuse = "full";
    technique = "both";
    members = [ "198.18.11.2", "198.18.12.2" ];
    member_prefix = "198.18.16.0/24";
    k_sa_file = "$tmp/k_sa";
    k_db_file = "$tmp/k_db";
    transfer_timeout_ms = 200;
    freshness_window_ms = 10000;
    seq_reserve = 4096;
    offers = false;
    store = { backend = "dbs"; address = "198.18.3.2"; local_address = "198.18.11.2";
              k_db_file = "$tmp/k_db"; port = 4434; freshness_window_ms = 5000;
              max_pending = 16; };
CONF
check_ok fa "$tmp/domain-dbs.conf"
# the store on Redis, members by prefix only
fa_domain domain-redis <<CONF
    reuse = "partial";
    technique = "store";
    member_prefix = "198.18.0.0/16";
    k_sa_file = "$tmp/k_sa";
    k_db_file = "$tmp/k_db";
    store = { backend = "redis"; host = "198.18.3.2"; port = 6379; user = "fa1";
              password_file = "$tmp/redis-pass"; key_prefix = "mipsa:sa:"; };
CONF
check_ok fa "$tmp/domain-redis.conf"
# no reuse: K_DB alone
fa_domain domain-none <<CONF
    reuse = "none";
    members = [ "198.18.11.2" ];
    k_db_file = "$tmp/k_db";
CONF
check_ok fa "$tmp/domain-none.conf"

# expect_domain NAME PATTERN < domain group: as expect, for an FA with that domain group
expect_domain() {
	fa_domain "$1.in"
	expect fa "$1" "$2" <"$tmp/$1.in.conf"
}
expect_domain reuse-mode "$tmp/reuse-mode.conf:6: setting 'fa.domain.reuse': 'most' is not none, partial or full" <<CONF
    reuse = "most";
    members = [ "198.18.11.2" ];
    k_db_file = "$tmp/k_db";
CONF
expect_domain technique "$tmp/technique.conf:7: setting 'fa.domain.technique': 'cache' is not direct, store or both" <<CONF
    reuse = "full";
    technique = "cache";
    members = [ "198.18.11.2" ];
    k_sa_file = "$tmp/k_sa";
    k_db_file = "$tmp/k_db";
CONF
expect_domain no-key-file "$tmp/no-key-file.conf:9: setting 'fa.domain.k_sa_file': $tmp/k_missing: No such file or directory" <<CONF
    reuse = "partial";
    members = [ "198.18.11.2" ];
    k_db_file = "$tmp/k_db";
    k_sa_file = "$tmp/k_missing";
CONF
expect_domain bad-key "$tmp/bad-key.conf:7: setting 'fa.domain.k_db_file': $tmp/k_short: expected 64 hex digits or 32 raw bytes, found 4 bytes" <<CONF
    reuse = "full";
    k_db_file = "$tmp/k_short";
    k_sa_file = "$tmp/k_sa";
    members = [ "198.18.11.2" ];
CONF
expect_domain not-hex-key "$tmp/not-hex-key.conf:7: setting 'fa.domain.k_sa_file': $tmp/k_nothex: .* with a character that is not hex" <<CONF
    reuse = "full";
    k_sa_file = "$tmp/k_nothex";
    k_db_file = "$tmp/k_db";
    members = [ "198.18.11.2" ];
CONF
expect_domain store-bad-key "$tmp/store-bad-key.conf:12: setting 'fa.domain.store.k_db_file': $tmp/k_short: expected 64 hex digits" <<CONF
    reuse = "full";
    technique = "both";
    members = [ "198.18.11.2" ];
    k_sa_file = "$tmp/k_sa";
    k_db_file = "$tmp/k_db";
    store = { backend = "dbs"; address = "198.18.3.2"; local_address = "198.18.11.2";
              k_db_file = "$tmp/k_short"; };
CONF
expect_domain prefix-zero "$tmp/prefix-zero.conf:8: setting 'fa.domain.member_prefix': a /0 prefix would make every address a member" <<CONF
    reuse = "full";
    k_sa_file = "$tmp/k_sa";
    member_prefix = "0.0.0.0/0";
    k_db_file = "$tmp/k_db";
CONF
expect_domain no-store "$tmp/no-store.conf:5: setting 'fa.domain.store': missing" <<CONF
    reuse = "full";
    technique = "store";
    members = [ "198.18.11.2" ];
    k_sa_file = "$tmp/k_sa";
    k_db_file = "$tmp/k_db";
CONF
expect_domain store-backend "$tmp/store-backend.conf:11: setting 'fa.domain.store.backend': 'memcached' is not one of dbs, redis" <<CONF
    reuse = "full";
    technique = "both";
    members = [ "198.18.11.2" ];
    k_sa_file = "$tmp/k_sa";
    k_db_file = "$tmp/k_db";
    store = { backend = "memcached"; };
CONF
expect_domain member "$tmp/member.conf:6: setting 'fa.domain.members.\[1\]': not an IPv4 address" <<CONF
    members = [ "198.18.11.2", "fa2.domain-a.example" ];
    k_db_file = "$tmp/k_db";
CONF
expect_domain no-members "$tmp/no-members.conf:5: setting 'fa.domain.members': name the domain's FAs" <<CONF
    reuse = "none";
    k_db_file = "$tmp/k_db";
CONF
expect_domain timeout-low "$tmp/timeout-low.conf:10: setting 'fa.domain.transfer_timeout_ms': 0 is outside 1..10000" <<CONF
    reuse = "full";
    members = [ "198.18.11.2" ];
    k_sa_file = "$tmp/k_sa";
    k_db_file = "$tmp/k_db";
    transfer_timeout_ms = 0;
CONF
expect_domain timeout-high "$tmp/timeout-high.conf:10: setting 'fa.domain.transfer_timeout_ms': 10001 is outside 1..10000" <<CONF
    reuse = "full";
    members = [ "198.18.11.2" ];
    k_sa_file = "$tmp/k_sa";
    k_db_file = "$tmp/k_db";
    transfer_timeout_ms = 10001;
CONF
expect_domain window "$tmp/window.conf:10: setting 'fa.domain.freshness_window_ms': 50 is outside 100..3600000" <<CONF
    reuse = "full";
    members = [ "198.18.11.2" ];
    k_sa_file = "$tmp/k_sa";
    k_db_file = "$tmp/k_db";
    freshness_window_ms = 50;
CONF
expect_domain reserve "$tmp/reserve.conf:10: setting 'fa.domain.seq_reserve': 100 is outside 1024..1073741824" <<CONF
    reuse = "full";
    members = [ "198.18.11.2" ];
    k_sa_file = "$tmp/k_sa";
    k_db_file = "$tmp/k_db";
    seq_reserve = 100;
CONF
expect_domain offers "$tmp/offers.conf:10: setting 'fa.domain.offers': expected true or false" <<CONF
    reuse = "partial";
    members = [ "198.18.11.2" ];
    k_sa_file = "$tmp/k_sa";
    k_db_file = "$tmp/k_db";
    offers = "yes";
CONF
expect_domain lend-low "$tmp/lend-low.conf:10: setting 'fa.domain.lend_timeout_ms': 999 is outside 1000..600000" <<CONF
    reuse = "full";
    members = [ "198.18.11.2" ];
    k_sa_file = "$tmp/k_sa";
    k_db_file = "$tmp/k_db";
    lend_timeout_ms = 999;
CONF
expect_domain lend-high "$tmp/lend-high.conf:10: setting 'fa.domain.lend_timeout_ms': 600001 is outside 1000..600000" <<CONF
    reuse = "full";
    members = [ "198.18.11.2" ];
    k_sa_file = "$tmp/k_sa";
    k_db_file = "$tmp/k_db";
    lend_timeout_ms = 600001;
CONF
expect_domain overlap-high "$tmp/overlap-high.conf:10: setting 'fa.domain.key_overlap_ms': 86400001 is outside 0..86400000" <<CONF
    reuse = "full";
    members = [ "198.18.11.2" ];
    k_sa_file = "$tmp/k_sa";
    k_db_file = "$tmp/k_db";
    key_overlap_ms = 86400001;
CONF

# ---- unknown settings: a misspelt name in each group of each daemon ----
# misspell DAEMON NAME FILE OLD NEW SETTING [SUGGESTION]: FILE with the first
# OLD made NEW is refused at that line, naming the setting and the closest
# known name of its group (none when nothing is close).
misspell() {
	line=$(grep -n -m1 -F -- "$4" "$3" | cut -d: -f1)
	if [ -z "$line" ]; then
		echo "FAIL: $2: no '$4' in $3"
		fails=$((fails + 1))
		return
	fi
	setting=$(printf '%s' "$6" | sed 's/[].[]/\\&/g')
	if [ $# -ge 7 ]; then
		want=" \\(did you mean '$7'\\?\\)\$"
	else
		want='$'
	fi
	sed "${line}s/$4/$5/" "$3" >"$tmp/$2.in"
	expect "$1" "$2" "$tmp/$2.conf:$line: setting '$setting': unknown$want" <"$tmp/$2.in"
}
ha=$top/conf/ha.conf
misspell ha ha-switch "$ha" require_fa_auth requre_fa_auth ha.requre_fa_auth require_fa_auth
misspell ha ha-case "$ha" reverse_tunnel Reverse_Tunnel ha.Reverse_Tunnel reverse_tunnel
misspell ha ha-swap "$ha" timestamp_tolerance timestamp_tolerence ha.timestamp_tolerence \
	timestamp_tolerance
misspell ha ha-far "$ha" 'log_level =' 'colour =' ha.colour
misspell ha ha-top "$ha" 'ha: {' 'home_agent: {' home_agent
misspell ha ha-mn "$ha" 'nai = ' 'nia = ' 'ha.mobile_nodes.[0].nia' nai
misspell ha ha-mn-key "$ha" 'spi = 1001' 'spii = 1001' 'ha.mobile_nodes.[0].spii' spi
misspell ha ha-fa "$ha" '{ address = "198.18.12.2"' '{ adress = "198.18.12.2"' \
	'ha.foreign_agents.[1].adress' address
fa=$tmp/fa-example-domain.conf
misspell fa fa-switch "$fa" require_mn_auth require_mn_auht fa.require_mn_auht require_mn_auth
misspell fa fa-required "$fa" care_of_address care_of_adress fa.care_of_adress care_of_address
misspell fa fa-ha "$fa" 'spi = 2001' 'sip = 2001' 'fa.home_agents.[0].sip' spi
misspell fa fa-mn "$fa" 'mobile_nodes = ();' \
	"mobile_nodes = ( { home_adress = \"198.18.100.10\"; spi = 3001; key = \"$K\"; } );" \
	'fa.mobile_nodes.[0].home_adress' home_address
misspell fa fa-ipsec "$fa" udp_encapsulation udp_encapsulaton fa.ipsec.udp_encapsulaton \
	udp_encapsulation
misspell fa fa-ipsec-peer "$fa" 'psk = ' 'pks = ' 'fa.ipsec.peers.[0].pks' psk
misspell fa fa-domain "$fa" 'seq_reserve =' 'seq_reserv =' fa.domain.seq_reserv seq_reserve
misspell fa fa-store "$fa" 'local_address =' 'local_adddress =' fa.domain.store.local_adddress \
	local_address
misspell fa fa-ipsec-top "$fa" 'fa: {' 'ipsec = { enabled = false; }; fa: {' ipsec
mn=$top/conf/mn.conf
misspell mn mn-switch "$mn" 'sa_reuse =' 'sa_reuses =' mn.sa_reuses sa_reuse
misspell mn mn-gateway "$mn" '# gateway =' 'gatway =' mn.gatway gateway
misspell mn mn-retry "$mn" registration_retry_max_ms registration_retry_max mn.registration_retry_max \
	registration_retry_ms
misspell mn mn-ha "$mn" 'ha_security = { spi' 'ha_security = { sp' mn.ha_security.sp spi
misspell mn mn-fa "$mn" '# fa_security = { spi = 3001; key = "...";' \
	"fa_security = { spi = 3001; kye = \"$K\";" mn.fa_security.kye key
misspell mn mn-ipsec "$mn" 'esp_proposals =' 'esp_proposal =' mn.ipsec.esp_proposal esp_proposals
misspell mn mn-ipsec-peer "$mn" '{ address = "198.19.0.1"; id =' '{ address = "198.19.0.1"; ID =' \
	'mn.ipsec.peers.[0].ID' id
dbs=$tmp/dbs-example.conf
misspell dbs dbs-name "$dbs" freshness_window_ms freshnes_window_ms dbs.freshnes_window_ms \
	freshness_window_ms
misspell dbs dbs-members "$dbs" 'members =' 'member =' dbs.member members

# ---- every numeric range ----
# Just below and just above, 2^32 above the minimum (libconfig 1.5 alone
# reads that as the minimum itself) and beyond 64 bits both ways: refused,
# with the value as written.  cfg_DAEMON prints a configuration holding
# every numeric setting of that daemon, each as @SETTING:DEFAULT@: range
# puts the value under test in one of them and the defaults in the others.
cfg_ha() {
	cat <<CONF
ha: {
  address = "198.18.100.1";
  home_prefix = "198.18.100.0/24";
  max_lifetime = @ha.max_lifetime:600@;
  timestamp_tolerance = @ha.timestamp_tolerance:7@;
  mobile_nodes = ( { home_address = "198.18.100.10"; key = "$K";
                     spi = @ha.mobile_nodes.[0].spi:1001@; } );
  foreign_agents = ( { address = "198.18.11.2"; key = "$K";
                       spi = @ha.foreign_agents.[0].spi:2001@; } );
};
CONF
}
# the ipsec group of the fa or mn group $1
cfg_ipsec() {
	cat <<CONF
  ipsec = {
    ike_lifetime = @$1.ipsec.ike_lifetime:10800@;
    ipsec_lifetime = @$1.ipsec.ipsec_lifetime:3600@;
    ipsec_lifetime_kb = @$1.ipsec.ipsec_lifetime_kb:0@;
    rekey_margin = @$1.ipsec.rekey_margin:60@;
    dpd_interval = @$1.ipsec.dpd_interval:30@;
    retransmit_ms = @$1.ipsec.retransmit_ms:500@;
    retransmit_tries = @$1.ipsec.retransmit_tries:5@;
    halfopen_max = @$1.ipsec.halfopen_max:1024@;
    halfopen_peer_max = @$1.ipsec.halfopen_peer_max:4@;
    peers = ( { address = "198.19.0.1"; psk = "a long random pre-shared key"; } );
  };
CONF
}
cfg_fa() {
	cat <<CONF
fa: {
  access_interface = "acc0";
  alias_address = "198.19.0.1";
  care_of_address = "198.18.11.2";
  alias_prefix_length = @fa.alias_prefix_length:24@;
  route_table = @fa.route_table:100@;
  advertisement_interval_ms = @fa.advertisement_interval_ms:1000@;
  advertisement_lifetime = @fa.advertisement_lifetime:3@;
  max_lifetime = @fa.max_lifetime:600@;
  pending_timeout_ms = @fa.pending_timeout_ms:7000@;
  max_visitors = @fa.max_visitors:10000@;
  max_pending_relays = @fa.max_pending_relays:1024@;
  home_agents = ( { address = "198.18.100.1"; key = "$K";
                    spi = @fa.home_agents.[0].spi:2001@; } );
  mobile_nodes = ( { home_address = "198.18.100.10"; key = "$K";
                     spi = @fa.mobile_nodes.[0].spi:3001@; } );
$(cfg_ipsec fa)
  domain = {
    reuse = "full";
    technique = "both";
    members = [ "198.18.11.2" ];
    k_sa_file = "$tmp/k_sa";
    k_db_file = "$tmp/k_db";
    transfer_timeout_ms = @fa.domain.transfer_timeout_ms:100@;
    freshness_window_ms = @fa.domain.freshness_window_ms:30000@;
    seq_reserve = @fa.domain.seq_reserve:4096@;
    store = { backend = "dbs"; address = "198.18.3.2"; local_address = "198.18.11.2";
              k_db_file = "$tmp/k_db";
              port = @fa.domain.store.port:4434@;
              freshness_window_ms = @fa.domain.store.freshness_window_ms:5000@;
              max_pending = @fa.domain.store.max_pending:16@; };
  };
};
CONF
}
cfg_mn() {
	cat <<CONF
mn: {
  interface = "eth0";
  home_address = "198.18.100.10";
  home_agent = "198.18.100.1";
  lifetime = @mn.lifetime:300@;
  registration_retry_ms = @mn.registration_retry_ms:500@;
  registration_retry_max_ms = @mn.registration_retry_max_ms:8000@;
  solicitation_retry_ms = @mn.solicitation_retry_ms:1000@;
  ha_security = { key = "$K"; spi = @mn.ha_security.spi:1001@; };
  fa_security = { key = "$K"; spi = @mn.fa_security.spi:3001@; };
$(cfg_ipsec mn)
};
CONF
}
cfg_dbs() {
	cat <<CONF
dbs: {
  address = "198.18.3.2";
  k_db_file = "$tmp/k_db";
  members = [ "198.18.11.2" ];
  port = @dbs.port:4434@;
  freshness_window_ms = @dbs.freshness_window_ms:30000@;
  max_records = @dbs.max_records:10000@;
  log_compact_min_bytes = @dbs.log_compact_min_bytes:1048576@;
};
CONF
}
for d in ha fa mn dbs; do
	"cfg_$d" >"$tmp/template-$d"
	sed 's/@[^:@]*:\([^@]*\)@/\1/g' "$tmp/template-$d" >"$tmp/every-$d.conf"
	check_ok "$d" "$tmp/every-$d.conf"
done
n_range=0
# range DAEMON SETTING MIN MAX
range() {
	wrap=$(($3 + 4294967296))
	[ "$wrap" -le "$4" ] && wrap=
	setting=$(printf '%s' "$2" | sed 's/[].[]/\\&/g')
	for value in $(($3 - 1)) $(($4 + 1)) $wrap 18446744073709551616 -18446744073709551617; do
		n_range=$((n_range + 1))
		sed -e "s/@$setting:[^@]*@/$value/" -e 's/@[^:@]*:\([^@]*\)@/\1/g' \
			"$tmp/template-$1" >"$tmp/range-$n_range.in"
		line=$(grep -n -F -- " ${2##*.} = $value;" "$tmp/range-$n_range.in" | cut -d: -f1)
		expect "$1" "range-$n_range" \
			"$tmp/range-$n_range.conf:$line: setting '$setting': $value is outside $3\\.\\.$4\$" \
			<"$tmp/range-$n_range.in"
	done
}
U32=4294967295
range ha ha.max_lifetime 1 65534
range ha ha.timestamp_tolerance 1 3600
range ha 'ha.mobile_nodes.[0].spi' 256 $U32
range ha 'ha.foreign_agents.[0].spi' 256 $U32
range fa fa.alias_prefix_length 8 32
range fa fa.route_table 1 252
range fa fa.advertisement_interval_ms 10 600000
range fa fa.advertisement_lifetime 1 9000
range fa fa.max_lifetime 1 65534
range fa fa.pending_timeout_ms 100 60000
range fa fa.max_visitors 1 1000000
range fa fa.max_pending_relays 1 1000000
range fa 'fa.home_agents.[0].spi' 256 $U32
range fa 'fa.mobile_nodes.[0].spi' 256 $U32
range fa fa.domain.transfer_timeout_ms 1 10000
range fa fa.domain.freshness_window_ms 100 3600000
range fa fa.domain.seq_reserve 1024 1073741824
range fa fa.domain.store.port 1 65535
range fa fa.domain.store.freshness_window_ms 100 600000
range fa fa.domain.store.max_pending 1 65536
range mn mn.lifetime 1 65534
range mn mn.registration_retry_ms 10 60000
range mn mn.registration_retry_max_ms 10 600000
range mn mn.solicitation_retry_ms 10 600000
range mn mn.ha_security.spi 256 $U32
range mn mn.fa_security.spi 256 $U32
for d in fa mn; do
	range $d $d.ipsec.ike_lifetime 20 604800
	range $d $d.ipsec.ipsec_lifetime 10 604800
	range $d $d.ipsec.ipsec_lifetime_kb 0 $U32
	range $d $d.ipsec.rekey_margin 1 3600
	range $d $d.ipsec.dpd_interval 0 3600
	range $d $d.ipsec.retransmit_ms 10 60000
	range $d $d.ipsec.retransmit_tries 1 20
	range $d $d.ipsec.halfopen_max 16 1048576
	range $d $d.ipsec.halfopen_peer_max 1 1024
done
# a source may not have more half-open SAs than all of them
sed -e 's/@fa\.ipsec\.halfopen_max:[^@]*@/16/' -e 's/@fa\.ipsec\.halfopen_peer_max:[^@]*@/17/' \
	-e 's/@[^:@]*:\([^@]*\)@/\1/g' "$tmp/template-fa" |
	expect fa halfopen-peer \
		"$tmp/halfopen-peer.conf:[0-9]+: setting 'fa.ipsec.halfopen_peer_max': more than halfopen_max \\(16\\)"
range dbs dbs.port 1 65535
range dbs dbs.freshness_window_ms 100 600000
range dbs dbs.max_records 1 10000000
range dbs dbs.log_compact_min_bytes 4096 1099511627776
# the largest SPI needs no L suffix (libconfig 1.5 alone reads 4294967295 as -1)
sed -e 's/@ha\.mobile_nodes\.\[0\]\.spi:[^@]*@/4294967295/' -e 's/@[^:@]*:\([^@]*\)@/\1/g' \
	"$tmp/template-ha" >"$tmp/spi-max.conf"
check_ok ha "$tmp/spi-max.conf"

# ---- the sandbox settings (doc/security.md), in every daemon's group ----
# expect_example DAEMON NAME SED PATTERN: as expect, for the example edited by SED
expect_example() {
	sed "$3; s|/etc/mipsa/k_db|$tmp/k_db|" "$top/conf/$1.conf" | expect "$1" "$2" "$4"
}
expect_example ha sandbox-type 's|^  sandbox = true;|  sandbox = "no";|' \
	"$tmp/sandbox-type.conf:[0-9]+: setting 'ha.sandbox': expected true or false"
expect_example dbs user-empty 's|^  user = "mipsa";|  user = "";|' \
	"$tmp/user-empty.conf:[0-9]+: setting 'dbs.user': must be 1 to 63 characters"
expect fa sandbox-misspelt "$tmp/sandbox-misspelt.conf:2: setting 'fa.sandbx': unknown.*sandbox" <<CONF
fa: {
  sandbx = false;
};
CONF
# started (not -t), a user that does not exist or is root stops the daemon
# before it opens anything: it never runs as root by mistake
# start_refused DAEMON NAME USER PATTERN: the example with user = USER
start_refused() {
	sed "s|^\(  user = \).*|\1\"$3\";|; s|/etc/mipsa/k_db|$tmp/k_db|" \
		"$top/conf/$1.conf" >"$tmp/$2.conf"
	out=$("$bin/$1/mipsa-$1" -c "$tmp/$2.conf" 2>&1)
	rc=$?
	if [ "$rc" -ne 1 ] || ! printf '%s\n' "$out" | grep -Eq "$4"; then
		echo "FAIL: $2: status $rc, '$out', want 1 and '$4'"
		fails=$((fails + 1))
	else
		echo "ok: $2: $out"
	fi
}
for d in ha fa mn dbs; do
	start_refused $d no-user-$d mipsa-no-such-user \
		'user "mipsa-no-such-user" does not exist: create it \(useradd --system'
	start_refused $d root-user-$d root 'user "root" is root \(uid 0, gid 0\)'
done

# a file that cannot be read
out=$("$bin/mn/mipsa-mn" -c "$tmp/nonexistent.conf" 2>&1)
rc=$?
if [ "$rc" -ne 1 ] || ! printf '%s' "$out" | grep -q "nonexistent.conf: cannot read the file"; then
	echo "FAIL: unreadable file: status $rc, '$out'"
	fails=$((fails + 1))
fi
[ "$fails" -eq 0 ] || { echo "$fails failures"; exit 1; }
echo "test_config: ok"
