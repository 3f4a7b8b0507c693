package tollgate

// ToolRequest says what the agent asks to do. Tool is the one key every stage
// uses (policy, limits, grants, breaker, manifest lookup). The pipeline fills
// Effect, ResourceType and ManifestVersion from the manifest; values a caller
// puts there are overwritten.
type ToolRequest struct {
	Tool         string
	Action       string
	ResourceType string
	Effect       Effect
	Params       Params
	// Metadata is read by policy `when:` conditions. It comes from the caller,
	// so rules should use it to narrow, not to widen, what is allowed.
	Metadata Params
	// ManifestVersion is the version of the manifest that supplied Effect and
	// ResourceType; empty means the tool is not in a trusted manifest, and a
	// policy ALLOW is then downgraded to ASK.
	ManifestVersion string
}
