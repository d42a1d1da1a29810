/*
 * bank_web.c: the routes of bank (owned by the bank work; see sponsorship.h).
 */
#include "sponsorship/sponsorship.h"

#include "core/banned.h"

void bank_register(void)
{
}
