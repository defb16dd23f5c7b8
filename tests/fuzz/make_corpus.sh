#!/bin/sh
# Write the seed corpora under tests/fuzz/corpus/: a few small, valid
# messages per target (the hand-written vectors of the unit tests), as binary
# files.  Rerun after changing a seed; the files are committed.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)/corpus

# bin FILE HEX...: write the bytes given in hex (spaces ignored) to FILE.
bin() {
	f=$1
	shift
	hex=$(printf '%s' "$*" | tr -d ' \n')
	fmt=""
	while [ -n "$hex" ]; do
		b=${hex%"${hex#??}"}
		hex=${hex#??}
		fmt="$fmt$(printf '\\%03o' "0x$b")"
	done
	mkdir -p "$(dirname "$f")"
	# shellcheck disable=SC2059
	printf "$fmt" >"$f"
}

nai="830f 6d6e31406578616d706c652e6f7267" # NAI "mn1@example.org"

# IPv4/UDP 10.0.0.1:434 -> 10.0.0.2:434 "RFC 768!"; IPv4 with an option; IP-in-IP.
bin "$dir/fuzz_ip4/udp" 45000024 1c46 4000 4011 0a81 0a000001 0a000002 \
	01b201b2 0010 e3a9 52464320 37363821
bin "$dir/fuzz_ip4/options" 4600001c abcd 0000 2001 ffdb c0000201 c6336402 01010100 deadbeef
bin "$dir/fuzz_ip4/zero_udp_cksum" 45000024 1c46 4000 4011 0a81 0a000001 0a000002 \
	01b201b2 0010 0000 52464320 37363821

# fuzz_pmtu: a path MTU (2 bytes), then a packet: UDP with DF clear (fragments),
# TCP with DF set (ICMP), one with a copied and a non-copied option.
bin "$dir/fuzz_pmtu/udp_df_clear" 0030 45000040 1c46 0000 4011 0000 0a000001 0a000002 \
	01b201b2 002c 0000 52464320 37363821 52464320 37363821 52464320 37363821 52464320 37363821 \
	52464320 37363821
bin "$dir/fuzz_pmtu/tcp_df" 0030 45000040 1c46 4000 4006 0000 0a000001 0a000002 \
	1f900050 00000001 00000000 50020000 00000000 52464320 37363821 52464320 37363821 \
	52464320 37363821 52464320
bin "$dir/fuzz_pmtu/options" 0044 48000050 1c46 2000 4011 0000 0a000001 0a000002 \
	8204aabb 07070400 00000001 01b201b2 0030 0000 52464320 37363821 52464320 37363821 \
	52464320 37363821 52464320 37363821 52464320 37363821

# fuzz_tun_gso: a virtio-net header (host order), then the packet: a TCP
# super-packet of 40 payload bytes in 16-byte segments (the top bit of the
# first byte asks the target to repair the IP header checksum); a UDP
# datagram with a partial checksum; a plain packet.
bin "$dir/fuzz_tun_gso/tso" 81 01 2800 1000 1400 1000 45000050 1c46 4000 4006 0000 \
	0a000001 0a000002 1f900050 00000001 00000000 50180200 00000000 \
	52464320 37363821 52464320 37363821 52464320 37363821 52464320 37363821 \
	52464320 37363821
bin "$dir/fuzz_tun_gso/partial_csum" 01 00 0000 0000 1400 0600 45000024 1c46 4000 4011 0a81 \
	0a000001 0a000002 01b201b2 0010 1234 52464320 37363821
bin "$dir/fuzz_tun_gso/plain" 00 00 0000 0000 0000 0000 45000024 1c46 4000 4011 0a81 \
	0a000001 0a000002 01b201b2 0010 e3a9 52464320 37363821

# fuzz_udp_gso: packets as (length / 8, length % 8 + 8 to copy the first's
# headers), then the bytes: ESP in UDP 4500 of 48, 48 and 44 bytes (a run of
# three, the last shorter); the same with the second longer (no run).
esp0="45000030 1c46 0000 4011 0000 0a000001 0a000002 11941194 001c 0000 00000101 00000001 52464320 37363821 52464320"
fill="52464320 37363821 52464320 37363821 52464320 37363821 52464320 37363821 52464320 37363821 52464320"
bin "$dir/fuzz_udp_gso/run3" 0600 $esp0 0608 $fill 37363821 050c $fill
bin "$dir/fuzz_udp_gso/longer" 0600 $esp0 0708 $fill 37363821 52464320 37363821 52464320

# Registration Request: all extensions; MN-HA signed with "mipsa-test-key-1"; fixed part only.
req=0102012c0a0000050a000001c0a80101e800000012345678
bin "$dir/fuzz_mip_request/all_exts" $req $nai c802aabb \
	2014000001001112131415161718191a1b1c1d1e1f20 8200 \
	2114000002003132333435363738393a3b3c3d3e3f40 \
	2214000003005152535455565758595a5b5c5d5e5f60
bin "$dir/fuzz_mip_request/signed" $req $nai 201400000100 bce00e0deb1b46a662b815edf7a4755f
bin "$dir/fuzz_mip_request/fixed" $req

# Registration Reply: NAI and MN-HA; signed; denied (133) without extensions.
rep=0300012c0a0000050a000001e800000012345678
bin "$dir/fuzz_mip_reply/nai_mnha" $rep $nai 2014000001007172737475767778797a7b7c7d7e7f80
bin "$dir/fuzz_mip_reply/signed" $rep $nai 201400000100 a9274bdec20f196b1dc499f0c84aed41
bin "$dir/fuzz_mip_reply/denied" 0385 0000 0a000005 0a000001 e800000012345678

# Agent Advertisement with prefix lengths and padding; mobile-only with two CoAs; Solicitation.
bin "$dir/fuzz_mip_adv/adv" 09009f69 01020708 c0a80101 00000000 100a0001012c9000c0a80101 \
	130118 00
bin "$dir/fuzz_mip_adv/adv_mobile_only" 091029b7 0002ffff 100effffffff3100 c6120001 c6120002
bin "$dir/fuzz_mip_adv/sol" 0a00f5ff 00000000

# buf interpreter programs: a mode byte (capacity mod 97, 0x80 = read-only), then
# operations: (op << 1 | buffer) followed by the op's arguments (see fuzz_buf.c).
bin "$dir/fuzz_buf/write" 20 \
	12 a100000000000000 14 b1b2000000000000 16 c1c2c3c4 00000000 18 d1d2d3d4d5d6d7d8 \
	1a 05 1c 02 1e 03 20 01 aa 22 00 bbcc 24 02 03 \
	00 02 04 06 0e 04 01 03 08 fe 1a ff 25 00 00
bin "$dir/fuzz_buf/read" 90 \
	000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f \
	202122232425262728292a2b2c2d2e \
	00 02 04 06 08 05 0a 03 0c 02 0e 06 01 03 05 11 10 08 ff 0a f8 12 0000000000000000

# fuzz_ha_state: a state file as mipsa-ha writes it (a binding, an Identification alone), its
# lines alone, and nothing.
mkdir -p "$dir/fuzz_ha_state"
# The target parses each input as a whole file and as the lines under a header it makes:
# lines alone reach the line parser, a whole file the header's (generation 7, the CRC-32
# of the generation's 8 bytes and the lines, as ha_state_header writes it).
printf '198.18.100.10 198.18.11.2 198.18.11.2 120 1796000000000 1 1 e83a1d0040000000\n10.0.0.7 0.0.0.0 0.0.0.0 0 0 0 0 e83a1d0040000001\n' \
	>"$dir/fuzz_ha_state/two"
: >"$dir/fuzz_ha_state/empty"
{ printf 'mipsa-ha-state 2 7 %s\n' 83488ec8; cat "$dir/fuzz_ha_state/two"; } >"$dir/fuzz_ha_state/file"
