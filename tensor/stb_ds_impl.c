/* The one translation unit that compiles stb_ds.h's implementation (dynamic arrays
 * and hash maps used by the tape and by nn's vocabularies). The third-party code is
 * exempt from the strict -Wconversion/-Wshadow pass the library's own code meets. */
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wshadow"
#define STB_DS_IMPLEMENTATION
#include <stb_ds.h>
