// Random (version 4) UUID strings: identities of brokers, clients, modules.
#pragma once

#include <string>

namespace flux::broker {
std::string make_uuid();
}
