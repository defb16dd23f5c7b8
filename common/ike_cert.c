/*
 * Identities and X.509 credentials for IKEv1 (RFC 2409 5.1 signatures,
 * RFC 2407 4.6.2 ID types), through OpenSSL: our certificate, its private
 * key and the CA we trust; RSA signatures over HASH_I / HASH_R with PKCS#1
 * v1.5 padding and no DigestInfo, as IKEv1 implementations (strongSwan's
 * "RSA EMSA PKCS1 NULL") sign them.
 */
#include "ike_creds.h"
#include "ike_int.h"
#include "log.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ike_creds {
	X509 *cert;
	EVP_PKEY *key;
	X509_STORE *store;
	uint8_t *der;
	size_t der_len;
};

/* ---- identities ---- */

/* "C=CH, O=strongSwan, CN=moon" into DER. */
static int ike_dn_encode(const char *s, struct ike_id *id)
{
	X509_NAME *name = X509_NAME_new();
	char buf[IKE_ID_MAX], *save = NULL;
	unsigned char *p;
	int len;

	if (name == NULL || strlen(s) >= sizeof(buf))
		goto fail;
	strcpy(buf, s);
	for (char *rdn = strtok_r(buf, ",/", &save); rdn != NULL;
	     rdn = strtok_r(NULL, ",/", &save)) {
		while (*rdn == ' ')
			rdn++;
		char *eq = strchr(rdn, '=');
		if (eq == NULL)
			goto fail;
		*eq = '\0';
		if (X509_NAME_add_entry_by_txt(name, rdn, MBSTRING_UTF8, (unsigned char *)eq + 1,
					       -1, -1, 0) != 1)
			goto fail;
	}
	len = i2d_X509_NAME(name, NULL);
	if (len <= 0 || len > IKE_ID_MAX)
		goto fail;
	p = id->data;
	i2d_X509_NAME(name, &p);
	id->len = (size_t)len;
	id->type = ISAKMP_ID_DER_ASN1_DN;
	X509_NAME_free(name);
	return 0;
fail:
	X509_NAME_free(name);
	return -1;
}

int ike_id_parse(const char *s, struct ike_id *id)
{
	struct in_addr a;

	memset(id, 0, sizeof(*id));
	if (strchr(s, '=') != NULL)
		return ike_dn_encode(s, id);
	if (strlen(s) == 0 || strlen(s) > IKE_ID_MAX)
		return -1;
	if (inet_pton(AF_INET, s, &a) == 1) {
		id->type = ISAKMP_ID_IPV4_ADDR;
		memcpy(id->data, &a.s_addr, 4);
		id->len = 4;
		return 0;
	}
	id->type = strchr(s, '@') != NULL ? ISAKMP_ID_USER_FQDN : ISAKMP_ID_FQDN;
	id->len = strlen(s);
	memcpy(id->data, s, id->len);
	return 0;
}

const char *ike_id_str(const struct ike_id *id, char *buf, size_t n)
{
	if (id->type == ISAKMP_ID_IPV4_ADDR && id->len == 4) {
		inet_ntop(AF_INET, id->data, buf, (socklen_t)n);
	} else if (id->type == ISAKMP_ID_FQDN || id->type == ISAKMP_ID_USER_FQDN) {
		snprintf(buf, n, "%.*s", (int)id->len, (const char *)id->data);
		for (char *p = buf; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				*p = '?';
	} else if (id->type == ISAKMP_ID_DER_ASN1_DN) {
		const unsigned char *p = id->data;
		X509_NAME *name = d2i_X509_NAME(NULL, &p, (long)id->len);
		if (name != NULL) {
			X509_NAME_oneline(name, buf, (int)n);
			X509_NAME_free(name);
		} else {
			snprintf(buf, n, "(bad DN)");
		}
	} else {
		snprintf(buf, n, "%s", id->type == 0 ? "-" : "(other ID)");
	}
	return buf;
}

bool ike_id_equal(const struct ike_id *a, const struct ike_id *b)
{
	if (a->type != b->type)
		return false;
	if (a->type == ISAKMP_ID_DER_ASN1_DN) {
		/* The same name may be encoded with other string types: compare names. */
		const unsigned char *pa = a->data, *pb = b->data;
		X509_NAME *na = d2i_X509_NAME(NULL, &pa, (long)a->len);
		X509_NAME *nb = d2i_X509_NAME(NULL, &pb, (long)b->len);
		bool eq = na != NULL && nb != NULL && X509_NAME_cmp(na, nb) == 0;
		X509_NAME_free(na);
		X509_NAME_free(nb);
		return eq;
	}
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* ---- credentials ---- */

static X509 *ike_pem_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (f == NULL) {
		log_err("%s: cannot open", path);
		return NULL;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL)
		log_err("%s: not a PEM certificate", path);
	return x;
}

struct ike_creds *ike_creds_load(const char *cert, const char *key, const char *ca)
{
	struct ike_creds *cr = calloc(1, sizeof(*cr));
	X509 *cax = NULL;
	FILE *f;
	int len;

	if (cr == NULL)
		return NULL;
	cr->cert = ike_pem_cert(cert);
	cax = ike_pem_cert(ca);
	f = fopen(key, "r");
	if (f != NULL) {
		cr->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (cr->key == NULL)
		log_err("%s: not a readable PEM private key", key);
	cr->store = X509_STORE_new();
	if (cr->cert == NULL || cax == NULL || cr->key == NULL || cr->store == NULL ||
	    X509_STORE_add_cert(cr->store, cax) != 1 ||
	    EVP_PKEY_get_base_id(cr->key) != EVP_PKEY_RSA ||
	    X509_check_private_key(cr->cert, cr->key) != 1) {
		log_err("credentials %s / %s / %s: unusable (RSA key matching the certificate?)",
			cert, key, ca);
		X509_free(cax);
		ike_creds_free(cr);
		return NULL;
	}
	X509_free(cax);
	len = i2d_X509(cr->cert, NULL);
	cr->der = len > 0 ? malloc((size_t)len) : NULL;
	if (cr->der == NULL) {
		ike_creds_free(cr);
		return NULL;
	}
	unsigned char *p = cr->der;
	i2d_X509(cr->cert, &p);
	cr->der_len = (size_t)len;
	return cr;
}

void ike_creds_free(struct ike_creds *cr)
{
	if (cr == NULL)
		return;
	X509_free(cr->cert);
	EVP_PKEY_free(cr->key);
	X509_STORE_free(cr->store);
	free(cr->der);
	free(cr);
}

int ike_creds_subject_id(const struct ike_creds *cr, struct ike_id *id)
{
	X509_NAME *name = X509_get_subject_name(cr->cert);
	unsigned char *p = id->data;
	int len = i2d_X509_NAME(name, NULL);

	if (len <= 0 || len > IKE_ID_MAX)
		return -1;
	i2d_X509_NAME(name, &p);
	id->type = ISAKMP_ID_DER_ASN1_DN;
	id->len = (size_t)len;
	return 0;
}

const uint8_t *ike_cert_der(const struct ike_creds *cr, size_t *len)
{
	if (cr == NULL)
		return NULL;
	*len = cr->der_len;
	return cr->der;
}

int ike_cert_sign(const struct ike_creds *cr, const uint8_t *hash, size_t hlen, uint8_t *sig,
		  size_t *sig_len)
{
	EVP_PKEY_CTX *ctx = cr ? EVP_PKEY_CTX_new(cr->key, NULL) : NULL;
	int r = -1;

	if (ctx != NULL && EVP_PKEY_sign_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
	    EVP_PKEY_sign(ctx, sig, sig_len, hash, hlen) == 1)
		r = 0;
	else
		log_err("RSA signature failed");
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/* Does the certificate carry the identity the peer claimed? */
static bool ike_cert_has_id(X509 *x, const struct ike_id *id)
{
	char s[IKE_ID_MAX + 1];

	switch (id->type) {
	case ISAKMP_ID_DER_ASN1_DN: {
		const unsigned char *p = id->data;
		X509_NAME *n = d2i_X509_NAME(NULL, &p, (long)id->len);
		bool eq = n != NULL && X509_NAME_cmp(n, X509_get_subject_name(x)) == 0;
		X509_NAME_free(n);
		return eq;
	}
	case ISAKMP_ID_FQDN:
	case ISAKMP_ID_USER_FQDN:
		memcpy(s, id->data, id->len);
		s[id->len] = '\0';
		return id->type == ISAKMP_ID_FQDN ? X509_check_host(x, s, id->len, 0, NULL) == 1
						  : X509_check_email(x, s, id->len, 0) == 1;
	case ISAKMP_ID_IPV4_ADDR:
		return id->len == 4 && X509_check_ip(x, id->data, 4, 0) == 1;
	default:
		return false;
	}
}

int ike_cert_verify(const struct ike_creds *cr, const uint8_t *der, size_t der_len,
		    const struct ike_id *id, const uint8_t *hash, size_t hlen, const uint8_t *sig,
		    size_t sig_len)
{
	const unsigned char *p = der;
	X509 *x = cr ? d2i_X509(NULL, &p, (long)der_len) : NULL;
	X509_STORE_CTX *sctx = X509_STORE_CTX_new();
	EVP_PKEY_CTX *vctx = NULL;
	int r = ISAKMP_N_INVALID_CERTIFICATE;

	if (x == NULL || sctx == NULL || p != der + der_len ||
	    X509_STORE_CTX_init(sctx, cr->store, x, NULL) != 1 || X509_verify_cert(sctx) != 1) {
		log_rl_notice("peer certificate not trusted: %s",
			      sctx ? X509_verify_cert_error_string(X509_STORE_CTX_get_error(sctx))
				   : "no memory");
		goto out;
	}
	if (!ike_cert_has_id(x, id)) {
		r = ISAKMP_N_INVALID_ID_INFORMATION;
		log_rl_notice("peer certificate does not carry the identity it claimed");
		goto out;
	}
	vctx = EVP_PKEY_CTX_new(X509_get0_pubkey(x), NULL);
	r = ISAKMP_N_INVALID_SIGNATURE;
	if (vctx != NULL && EVP_PKEY_verify_init(vctx) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(vctx, RSA_PKCS1_PADDING) == 1 &&
	    EVP_PKEY_verify(vctx, sig, sig_len, hash, hlen) == 1)
		r = 0;
	else
		log_rl_notice("peer signature does not verify");
out:
	ERR_clear_error();
	EVP_PKEY_CTX_free(vctx);
	X509_STORE_CTX_free(sctx);
	X509_free(x);
	return r;
}

bool ike_creds_same(const struct ike_creds *a, const struct ike_creds *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return a->der_len == b->der_len && memcmp(a->der, b->der, a->der_len) == 0 &&
	       EVP_PKEY_eq(a->key, b->key) == 1;
}
