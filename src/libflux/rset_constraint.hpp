// RFC 31 constraints over the ranks of a resource set, as a scheduler
// matches them: operators and, or, not; properties (a name, or ^name for
// ranks without it), hostlist, ranks. A job's
// attributes.system.constraints, and a queue's requires, are of this form.
#pragma once

#include "idset.hpp"
#include "json.hpp"
#include "result.hpp"
#include "rset.hpp"

namespace flux {

// The ranks of rset that satisfy constraint (null or {}: every rank).
// EINVAL with flux-core's reason for a malformed constraint, e.g.
// "unknown constraint operator: foo".
Result<Idset> constraint_ranks(const Rset& rset, const Json& constraint);

// rset cut down to the ranks that satisfy constraint.
Result<Rset> rset_copy_constraint(const Rset& rset, const Json& constraint);

}  // namespace flux
