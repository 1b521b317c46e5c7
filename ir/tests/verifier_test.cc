#include "ir/tests/test_util.h"
