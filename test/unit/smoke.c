#include "tap.h"
int main(void) { ok(1 == 1, "smoke"); return done_testing(); }
