/*
 * disburse_web.c: the routes of disburse (owned by the disburse work; see sponsorship.h).
 */
#include "sponsorship/sponsorship.h"

#include "core/banned.h"

void disburse_register(void)
{
}
