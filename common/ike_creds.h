/* X.509 credentials for IKEv1 RSA signatures: our certificate, key and trusted CA. */
#ifndef MIPSA_IKE_CREDS_H
#define MIPSA_IKE_CREDS_H

#include <stdbool.h>

#include "ike.h"

/* PEM files; NULL (logged) when any is missing, unreadable or mismatched. */
struct ike_creds *ike_creds_load(const char *cert, const char *key, const char *ca);
void ike_creds_free(struct ike_creds *cr);
/* The same certificate and private key (a reload tells a renewed one from the old). */
bool ike_creds_same(const struct ike_creds *a, const struct ike_creds *b);
/* Our identity as the certificate's subject (ID_DER_ASN1_DN). */
int ike_creds_subject_id(const struct ike_creds *cr, struct ike_id *id);

#endif
