/*
 * version.h: the one place the version is written.
 */
#ifndef SANAD_CORE_VERSION_H
#define SANAD_CORE_VERSION_H

#define SANAD_VERSION "0.1.0"

#endif
