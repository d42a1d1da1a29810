/*
 * finance_web.c: the routes of the books (/api/v1/finance, /finance).
 */
#include "finance/ledger.h"

#include "core/banned.h"

void finance_register(void)
{
}
