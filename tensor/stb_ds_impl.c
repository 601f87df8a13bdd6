/* The one translation unit that compiles stb_ds.h's implementation (dynamic arrays
 * and hash maps used by the tape and by nn's vocabularies). */
#define STB_DS_IMPLEMENTATION
#include <stb_ds.h>
