/*
 * resource_ref.h
 *     Parsing of the textual forms the API accepts: 'type' and 'type/uuid'
 *     resource references and uuids.  Pure functions with no
 *     catalog access, so they can be fuzzed on their own.
 */
#ifndef RESOURCE_REF_H
#define RESOURCE_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A reference splits into a type name (not yet looked up) and an optional id. */
typedef struct ResourceRef
{
	const char *type;			/* points into the parsed text */
	size_t		type_len;
	bool		has_id;
	unsigned char id[16];
} ResourceRef;

/*
 * true when text[0..len) is 'type' or 'type/uuid' with a non-empty type and a
 * well-formed uuid.  Whether the type exists is the caller's question.
 */
extern bool ParseResourceRef(const char *text, size_t len, ResourceRef *out);

/* Canonical 8-4-4-4-12 form or 32 bare hex digits, any case. */
extern bool ParseUuid(const char *text, size_t len, unsigned char out[16]);

#endif							/* RESOURCE_REF_H */
