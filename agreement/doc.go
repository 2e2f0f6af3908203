// Package agreement reads, checks and models a truce agreement file: the
// parties and their identities, the observable categories, the zones, the
// rules that bind the parties inside them, the obligations and the
// sanctions matrix. The format is specified in docs/agreement-format.md and
// described for editors by the JSON Schema in [Schema].
//
// [LoadFile] and [Load] decode the YAML strictly and run [Agreement.Validate]:
// every problem comes back at once as an [ErrorList], sorted by position,
// each [Error] printing as file:line:col: message. Geometry referenced by
// geometry_file is read and checked too, with errors at positions in that
// file.
//
// After a successful load every zone's [Shape] is resolved (file geometry
// read, corridor lines copied from the referenced line zone) and every
// rule's window is absolute time; categories, parties, zones, identities and
// rules can be looked up by id.
//
// # Limits
//
// The package checks geometry only in the plane of longitude and latitude
// (ring closure, self-intersection with longitudes unwrapped across the
// antimeridian, holes by a vertex test). It does not decide containment or
// distances: that is package geo. It does not verify signatures, only that
// each identity's key is a well-formed ed25519 public key. YAML aliases are
// rejected, so an agreement reads the same everywhere it is quoted.
package agreement
