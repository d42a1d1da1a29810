/*
 * billing_web.c: the routes of billing (owned by the billing work; see sponsorship.h).
 */
#include "sponsorship/sponsorship.h"

#include "core/banned.h"

void billing_register(void)
{
}
