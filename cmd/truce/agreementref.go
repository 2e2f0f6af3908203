package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// agreementRefFile is where `truce serve` notes, in its data directory, the agreement file it
// runs under, so that `truce replay --data DIR` can replay the log under the same text
// without being told. It holds the file's absolute path and SHA-256, not a copy: an
// agreement may reference geometry files beside it.
const agreementRefFile = "agreement.json"

type agreementRef struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	ID     string `json:"id"`
}

// recordAgreement writes the reference to the agreement file path (with id) into dataDir.
func recordAgreement(dataDir, path, id string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	sum, err := fileSHA256(abs)
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(agreementRef{Path: abs, SHA256: sum, ID: id}, "", "  ")
	tmp := filepath.Join(dataDir, agreementRefFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dataDir, agreementRefFile))
}

// recordedAgreement returns the agreement file that `truce serve` last ran under on dataDir,
// refusing it when the file has changed since (its SHA-256 differs).
func recordedAgreement(dataDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, agreementRefFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%s holds no record of the agreement it was served under (older than this version of truce serve): give --baseline", dataDir)
	}
	if err != nil {
		return "", err
	}
	var ref agreementRef
	if err := json.Unmarshal(b, &ref); err != nil || ref.Path == "" {
		return "", fmt.Errorf("%s: not an agreement reference: give --baseline", filepath.Join(dataDir, agreementRefFile))
	}
	sum, err := fileSHA256(ref.Path)
	if err != nil {
		return "", fmt.Errorf("the agreement %s was served under: %w; give --baseline", dataDir, err)
	}
	if sum != ref.SHA256 {
		return "", fmt.Errorf("the agreement file %s has changed since %s was served under it (SHA-256 %s, was %s): give --baseline", ref.Path, dataDir, sum[:12], ref.SHA256[:12])
	}
	return ref.Path, nil
}

func fileSHA256(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
