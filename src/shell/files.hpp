// The job's files (RFC 37 file archive in attributes.system.files, as
// flux batch puts the script and flux-core's --add-file any file): each
// shell writes them into the job's FLUX_JOB_TMPDIR before a task starts.
#pragma once

#include <string>

#include "libflux/json.hpp"
#include "libflux/result.hpp"

namespace flux::shell {

// Write every entry of files (an object: relative path -> fileref) under
// dir. A fileref's data is a JSON value (written as JSON text) or a string
// in its encoding ("utf-8" or "base64"); mode gives the type (regular file,
// directory, symlink with data as its target) and permission bits. A path
// that is absolute or climbs out with ".." is refused. Throws FluxError:
// EINVAL naming the entry, or an I/O error naming the path.
void stage_files(const Json& files, const std::string& dir);

}  // namespace flux::shell
