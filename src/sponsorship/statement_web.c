/*
 * statement_web.c: the routes of statement (owned by the statement work; see sponsorship.h).
 */
#include "sponsorship/sponsorship.h"

#include "core/banned.h"

void statement_register(void)
{
}
