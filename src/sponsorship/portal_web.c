/*
 * portal_web.c: the routes of portal (owned by the portal work; see sponsorship.h).
 */
#include "sponsorship/sponsorship.h"

#include "core/banned.h"

void portal_register(void)
{
}
