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

# expect DAEMON NAME PATTERN < config: exit status 1, stderr matches PATTERN (grep -E)
expect() {
	daemon=$1 name=$2 pattern=$3
	cat >"$tmp/$name.conf"
	out=$("$bin/$daemon/mipsa-$daemon" -c "$tmp/$name.conf" 2>&1)
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
# a file that cannot be read
out=$("$bin/mn/mipsa-mn" -c "$tmp/nonexistent.conf" 2>&1)
rc=$?
if [ "$rc" -ne 1 ] || ! printf '%s' "$out" | grep -q "nonexistent.conf: cannot read the file"; then
	echo "FAIL: unreadable file: status $rc, '$out'"
	fails=$((fails + 1))
fi
[ "$fails" -eq 0 ] || { echo "$fails failures"; exit 1; }
echo "test_config: ok"
