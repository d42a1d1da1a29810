/*
 * sponsorship_web.c: the routes of sponsorship (owned by the sponsorship work; see sponsorship.h).
 */
#include "sponsorship/sponsorship.h"

#include "core/banned.h"

void sponsorship_register(void)
{
}
