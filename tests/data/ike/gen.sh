#!/bin/sh
# Regenerates the IKE test credentials (tests/unit/test_ike.c, RSA signatures).
# Run once by hand; the outputs are committed.  Keys are unencrypted test keys.
#   ca.pem / ca.key           test CA "mipsa IKE test CA"
#   mn.pem / mn.key           CN=mn.test, subjectAltName email:mn@test (signed by ca)
#   fa.pem / fa.key           CN=fa.test, subjectAltName DNS:fa.test (signed by ca)
#   other-ca.pem / .key       an unrelated CA
#   fa-other.pem / .key       CN=fa.test, DNS:fa.test signed by other-ca
#   mn-other.pem / .key       CN=mn.test, email:mn@test signed by other-ca
set -eu
cd "$(dirname "$0")"
days=36500
ca() { # name subject
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days $days \
		-subj "$2" -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign
}
leaf() { # name subject san ca
	openssl req -new -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2"
	printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nsubjectAltName=%s\n' "$3" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$4.pem" -CAkey "$4.key" -set_serial "0x$(openssl rand -hex 8)" \
		-days $days -sha256 -extfile "$1.ext" -out "$1.pem"
	rm -f "$1.csr" "$1.ext"
}
ca ca "/O=mipsa/CN=mipsa IKE test CA"
ca other-ca "/O=elsewhere/CN=other test CA"
leaf mn "/O=mipsa/CN=mn.test" "email:mn@test" ca
leaf fa "/O=mipsa/CN=fa.test" "DNS:fa.test" ca
leaf fa-other "/O=mipsa/CN=fa.test" "DNS:fa.test" other-ca
leaf mn-other "/O=mipsa/CN=mn.test" "email:mn@test" other-ca
