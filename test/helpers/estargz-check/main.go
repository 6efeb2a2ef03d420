// estargz-check opens an eStargz blob with the reference Go library, verifies its TOC against a
// digest, then reads every regular file through the library's reader, checking each chunk with
// the verifier the TOC yields. It prints one JSON line per file (name, size, sha256 of the
// contents) and a last line with the TOC digest; any failure goes to stderr with exit status 1.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"sort"

	"github.com/containerd/stargz-snapshotter/estargz"
	digest "github.com/opencontainers/go-digest"
)

type file struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	Sha256 string `json:"sha256"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: estargz-check <blob> <toc-digest>")
		os.Exit(2)
	}
	if err := check(os.Args[1], digest.Digest(os.Args[2])); err != nil {
		fmt.Fprintln(os.Stderr, "estargz-check:", err)
		os.Exit(1)
	}
}

func check(blobPath string, tocDigest digest.Digest) error {
	f, err := os.Open(blobPath)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	r, err := estargz.Open(io.NewSectionReader(f, 0, st.Size()))
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	verifier, err := r.VerifyTOC(tocDigest)
	if err != nil {
		return fmt.Errorf("verify TOC: %w", err)
	}
	root, ok := r.Lookup("")
	if !ok {
		return fmt.Errorf("no root directory")
	}
	var files []file
	var walk func(dir string, e *estargz.TOCEntry) error
	walk = func(dir string, e *estargz.TOCEntry) error {
		var names []string
		children := map[string]*estargz.TOCEntry{}
		e.ForeachChild(func(base string, child *estargz.TOCEntry) bool {
			names = append(names, base)
			children[base] = child
			return true
		})
		sort.Strings(names)
		for _, base := range names {
			child := children[base]
			name := path.Join(dir, base)
			switch child.Type {
			case "dir":
				if err := walk(name, child); err != nil {
					return err
				}
			case "reg":
				sum, err := readVerified(r, verifier, name, child)
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				files = append(files, file{Name: name, Size: child.Size, Sha256: sum})
			}
		}
		return nil
	}
	if err := walk("", root); err != nil {
		return err
	}
	out := json.NewEncoder(os.Stdout)
	for _, f := range files {
		if err := out.Encode(f); err != nil {
			return err
		}
	}
	return out.Encode(map[string]string{"tocDigest": r.TOCDigest().String()})
}

// readVerified reads a file chunk by chunk, each checked against its TOC digest.
func readVerified(r *estargz.Reader, v estargz.TOCEntryVerifier, name string, e *estargz.TOCEntry) (string, error) {
	sr, err := r.OpenFile(name)
	if err != nil {
		return "", err
	}
	whole := sha256.New()
	for off := int64(0); off < e.Size; {
		ce, ok := r.ChunkEntryForOffset(name, off)
		if !ok {
			return "", fmt.Errorf("no chunk at offset %d", off)
		}
		size := ce.ChunkSize
		if size == 0 {
			size = e.Size - ce.ChunkOffset
		}
		cv, err := v.Verifier(ce)
		if err != nil {
			return "", err
		}
		buf := make([]byte, size)
		if _, err := sr.ReadAt(buf, ce.ChunkOffset); err != nil && err != io.EOF {
			return "", err
		}
		cv.Write(buf)
		if !cv.Verified() {
			return "", fmt.Errorf("chunk at offset %d does not match its digest", ce.ChunkOffset)
		}
		whole.Write(buf)
		off = ce.ChunkOffset + size
	}
	return hex.EncodeToString(whole.Sum(nil)), nil
}
