// containerd-stargz-grpc for the tests: stargz-snapshotter's own snapshotter service (FUSE, fetch,
// verify and snapshots all stay upstream's code) behind a gRPC Snapshots API on a unix socket, with
// the same flags and config.toml as upstream's daemon. Left out: the fuse manager, IPFS, the
// kubeconfig and CRI keychains, the bolt metadata store and the debug endpoint.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	golog "log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"

	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/v2/contrib/snapshotservice"
	"github.com/containerd/log"
	"github.com/containerd/stargz-snapshotter/fs"
	memorymetadata "github.com/containerd/stargz-snapshotter/metadata/memory"
	"github.com/containerd/stargz-snapshotter/service"
	"github.com/containerd/stargz-snapshotter/service/keychain/dockerconfig"
	metrics "github.com/docker/go-metrics"
	"github.com/pelletier/go-toml"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
)

// config is the daemon's config.toml: the service's settings plus what the daemon itself serves.
type config struct {
	service.Config

	MetricsAddress string `toml:"metrics_address"`
	NoPrometheus   bool   `toml:"no_prometheus"`
	// Accepted so that a config written for upstream's daemon loads; only "memory" is built in.
	MetadataStore string `toml:"metadata_store" default:"memory"`
}

func main() {
	address := flag.String("address", "/run/containerd-stargz-grpc/containerd-stargz-grpc.sock", "unix socket of the Snapshots gRPC API")
	configPath := flag.String("config", "/etc/containerd-stargz-grpc/config.toml", "config.toml")
	logLevel := flag.String("log-level", "info", "trace, debug, info, warn, error, fatal or panic")
	root := flag.String("root", "/var/lib/containerd-stargz-grpc", "the snapshotter's root folder")
	flag.Parse()

	// JSON lines, as upstream's daemon writes them: tests look for "remote-snapshot-prepared".
	if err := log.SetFormat(log.JSONFormat); err != nil {
		golog.Fatal(err)
	}
	if err := log.SetLevel(*logLevel); err != nil {
		log.L.WithError(err).Fatal("bad --log-level")
	}
	ctx := log.WithLogger(context.Background(), log.L)
	// go-fuse logs through the standard library: keep that at debug level.
	golog.SetOutput(log.G(ctx).WriterLevel(log.DebugLevel))

	if err := run(ctx, *address, *configPath, *root); err != nil {
		log.G(ctx).WithError(err).Fatal("containerd-stargz-grpc failed")
	}
	log.G(ctx).Info("Exiting")
}

func run(ctx context.Context, address, configPath, root string) error {
	var cfg config
	// go-toml v1, as upstream's daemon uses, so that `default:` struct tags apply (direct = true...).
	tree, err := toml.LoadFile(configPath)
	if err != nil {
		return fmt.Errorf("load config %q: %w", configPath, err)
	}
	if err := tree.Unmarshal(&cfg); err != nil {
		return fmt.Errorf("parse config %q: %w", configPath, err)
	}
	if cfg.MetadataStore != "" && cfg.MetadataStore != "memory" {
		return fmt.Errorf("metadata_store %q is not built in (only memory)", cfg.MetadataStore)
	}
	if cfg.PassThrough {
		cfg.Direct = true // passthrough needs the cache to hand out files, as upstream forces too
	}
	if err := service.Supported(root); err != nil {
		return fmt.Errorf("snapshotter not supported on %q: %w", root, err)
	}

	sn, err := service.NewStargzSnapshotterService(ctx, root, &cfg.Config,
		service.WithCredsFuncs(dockerconfig.NewDockerconfigKeychain(ctx)),
		service.WithFilesystemOptions(fs.WithMetricsLogLevel(log.InfoLevel), fs.WithMetadataStore(memorymetadata.NewReader)))
	if err != nil {
		return fmt.Errorf("create snapshotter: %w", err)
	}
	// Closing unmounts every layer and drops the caches; without it FUSE mounts outlive the daemon.
	defer func() {
		log.G(ctx).Debug("Closing the snapshotter")
		if err := sn.Close(); err != nil {
			log.G(ctx).WithError(err).Warn("close snapshotter")
		}
	}()

	rpc := grpc.NewServer()
	snapshotsapi.RegisterSnapshotsServer(rpc, snapshotservice.FromSnapshotter(sn))
	defer rpc.Stop()

	failed := make(chan error, 2)
	if cfg.MetricsAddress != "" && !cfg.NoPrometheus {
		l, err := net.Listen("tcp", cfg.MetricsAddress)
		if err != nil {
			return fmt.Errorf("metrics listener: %w", err)
		}
		defer l.Close()
		mux := http.NewServeMux()
		mux.Handle("/metrics", metrics.Handler())
		go func() { failed <- fmt.Errorf("metrics server: %w", http.Serve(l, mux)) }()
	}

	if err := os.MkdirAll(filepath.Dir(address), 0o700); err != nil {
		return err
	}
	if err := os.Remove(address); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err // a stale socket would make Listen fail with EADDRINUSE
	}
	l, err := net.Listen("unix", address)
	if err != nil {
		return fmt.Errorf("listen on %q: %w", address, err)
	}
	go func() { failed <- fmt.Errorf("gRPC server: %w", rpc.Serve(l)) }()

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, unix.SIGINT, unix.SIGTERM)
	select {
	case s := <-signals:
		// Unlike upstream (which has a fuse manager to keep mounts alive on SIGTERM), both signals
		// unmount: nothing here could take over the mounts.
		log.G(ctx).Infof("Got %v", s)
		return nil
	case err := <-failed:
		return err
	}
}
