#include "core/uuid.h"

#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "core/time.h"
#include "core/banned.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t last_ms;
static uint16_t last_seq;

void uuid_v7(char out[UUID_STR_LEN])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof(b));
    int64_t ms = time_now_ms();
    /* 12 bits of rand_a act as a counter within one millisecond (RFC 9562, method 1),
     * so that ids from this process never go backwards. */
    pthread_mutex_lock(&lock);
    if (ms <= last_ms) {
        ms = last_ms;
        last_seq++;
        if (last_seq > 0x0fff) {
            ms++;
            last_seq = 0;
        }
    } else {
        last_seq = (uint16_t)(b[6] & 0x03); /* small random start leaves room to count */
    }
    last_ms = ms;
    uint16_t seq = last_seq;
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < 6; i++) {
        b[i] = (unsigned char)((uint64_t)ms >> (40 - 8 * i));
    }
    b[6] = (unsigned char)(0x70 | ((seq >> 8) & 0x0f));
    b[7] = (unsigned char)(seq & 0xff);
    b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
    static const char hex[] = "0123456789abcdef";
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[o++] = '-';
        }
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

bool uuid_valid(const char *s)
{
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') {
                return false;
            }
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return s[36] == '\0';
}
