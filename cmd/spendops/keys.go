package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spendops/spendops/internal/config"
	"github.com/spendops/spendops/internal/keys"
	"github.com/spendops/spendops/internal/policy"
	"github.com/spendops/spendops/internal/store"
)

// policyFlags are the key-policy flags shared by create and update.
type policyFlags struct {
	providers, models, dimsAllowed listFlag
	dimsPinned, dimsDefault        listFlag
	dimsRequired                   bool
	maxPairs, maxKey, maxValue     int
}

func (p *policyFlags) register(fs *flag.FlagSet) {
	fs.Var(&p.providers, "providers", "provider allow-list (comma-separated; * = all)")
	fs.Var(&p.models, "models", "model allow-list patterns: *, provider:exact, provider:prefix*")
	fs.BoolVar(&p.dimsRequired, "dims-required", false, "reject requests without X-ASO-Dims")
	fs.Var(&p.dimsAllowed, "dims-allowed", "allowed dimension keys (* = any) [team,env,app]")
	fs.Var(&p.dimsPinned, "dims-pinned", "pinned dimensions k=v (always recorded; other values rejected)")
	fs.Var(&p.dimsDefault, "dims-default", "default dimensions k=v (recorded when the request omits the key)")
	fs.IntVar(&p.maxPairs, "dims-max-pairs", 0, "max dimension pairs [8]")
	fs.IntVar(&p.maxKey, "dims-max-key-len", 0, "max dimension key length [32]")
	fs.IntVar(&p.maxValue, "dims-max-value-len", 0, "max dimension value length [64]")
}

// apply changes pol for the flags that were set.
func (p *policyFlags) apply(fs *flag.FlagSet, pol *keys.Policy) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "providers":
			pol.Providers = p.providers
		case "models":
			pol.Models = p.models
		case "dims-required":
			pol.Dims.Required = p.dimsRequired
		case "dims-allowed":
			pol.Dims.Allowed = p.dimsAllowed
		case "dims-pinned":
			pol.Dims.Pinned, err = pairs(p.dimsPinned, "--dims-pinned")
		case "dims-default":
			pol.Dims.Defaults, err = pairs(p.dimsDefault, "--dims-default")
		case "dims-max-pairs":
			pol.Dims.MaxPairs = p.maxPairs
		case "dims-max-key-len":
			pol.Dims.MaxKeyLen = p.maxKey
		case "dims-max-value-len":
			pol.Dims.MaxValueLen = p.maxValue
		}
	})
	if err != nil {
		return err
	}
	if err := policy.ValidatePolicy(*pol); err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	return nil
}

func pairs(kvs []string, flagName string) (map[string]string, error) {
	m := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s %q: want key=value", flagName, kv)
		}
		m[k] = v
	}
	return m, nil
}

// openKeys opens the key store of a data dir, with the server secret the
// server uses (config file, SPENDOPS_SERVER_SECRET, or the data dir's file).
func openKeys(ctx context.Context, dataDir, cfgFile string) (*keys.Store, func(), error) {
	cfg := config.Default()
	if cfgFile != "" {
		if err := cfg.LoadFile(cfgFile); err != nil {
			return nil, nil, err
		}
	}
	if v, ok := os.LookupEnv("SPENDOPS_SERVER_SECRET"); ok {
		cfg.ServerSecret = v
	}
	if dataDir != "" {
		cfg.DataDir = dataDir
	}
	db, err := store.Open(cfg.DataDir)
	if err != nil {
		return nil, nil, err
	}
	secret, err := keys.LoadOrCreateSecret(cfg.DataDir, cfg.ServerSecret)
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	ks, err := keys.NewStore(ctx, db, secret)
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	return ks, func() { _ = db.Close() }, nil
}

func runKeys(ctx context.Context, args []string, stdout, _ io.Writer) error {
	if len(args) == 0 {
		return usageError{"keys: missing subcommand (create, list, revoke, activate, rotate, update, audit)"}
	}
	sub := args[0]
	fs := flag.NewFlagSet("keys "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var dataDir, cfgFile, name, tenant string
	var asJSON bool
	var grace time.Duration
	fs.StringVar(&dataDir, "data-dir", "", "data directory [./spendops-data]")
	fs.StringVar(&cfgFile, "config", "", "YAML config file")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	var pf policyFlags
	switch sub {
	case "create":
		fs.StringVar(&name, "name", "", "key name (required)")
		fs.StringVar(&tenant, "tenant", "", "tenant id [default]")
		pf.register(fs)
	case "update":
		pf.register(fs)
	case "rotate":
		fs.DurationVar(&grace, "grace", 0, "how long the old secret keeps working (e.g. 24h) [0]")
	case "list", "revoke", "activate", "audit":
	default:
		return usageError{fmt.Sprintf("keys: unknown subcommand %q", sub)}
	}
	// Flags may come before or after the ID.
	rest := args[1:]
	var pos []string
	for {
		if err := fs.Parse(rest); err != nil {
			return usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if err := envFlags(fs); err != nil {
		return err
	}
	ks, closeDB, err := openKeys(ctx, dataDir, cfgFile)
	if err != nil {
		return err
	}
	defer closeDB()
	needID := func() (string, error) {
		if len(pos) != 1 {
			return "", usageError{fmt.Sprintf("keys %s: want exactly one key ID", sub)}
		}
		return pos[0], nil
	}
	const actor = "cli"
	switch sub {
	case "create":
		if name == "" {
			return usageError{"keys create: --name is required"}
		}
		var pol keys.Policy
		if err := pf.apply(fs, &pol); err != nil {
			return err
		}
		k, full, err := ks.Create(ctx, keys.CreateInput{Name: name, TenantID: tenant, Policy: pol, Actor: actor})
		if err != nil {
			return err
		}
		if asJSON {
			return json.NewEncoder(stdout).Encode(map[string]string{"id": k.ID, "key": full, "name": k.Name, "tenant": k.TenantID})
		}
		fmt.Fprintf(stdout, "Created key %s (name %q, tenant %q). It is shown once:\n%s\n", k.ID, k.Name, k.TenantID, full)
	case "list":
		kl, err := ks.List(ctx)
		if err != nil {
			return err
		}
		if asJSON {
			if kl == nil {
				kl = []*keys.Key{}
			}
			return json.NewEncoder(stdout).Encode(map[string]any{"keys": kl})
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tTENANT\tACTIVE\tCREATED\tLAST USED")
		for _, k := range kl {
			last := "-"
			if k.LastUsedAt != nil {
				last = k.LastUsedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%s\n", k.ID, k.Name, k.TenantID, k.Active, k.CreatedAt.Format(time.RFC3339), last)
		}
		return tw.Flush()
	case "revoke", "activate":
		id, err := needID()
		if err != nil {
			return err
		}
		if err := ks.SetActive(ctx, id, sub == "activate", actor); err != nil {
			return fmt.Errorf("%s %s: %w", sub, id, err)
		}
		fmt.Fprintf(stdout, "Key %s %sd.\n", id, map[string]string{"revoke": "revoke", "activate": "activate"}[sub])
	case "rotate":
		id, err := needID()
		if err != nil {
			return err
		}
		full, err := ks.Rotate(ctx, id, grace, actor)
		if err != nil {
			return fmt.Errorf("rotate %s: %w", id, err)
		}
		if asJSON {
			return json.NewEncoder(stdout).Encode(map[string]any{"id": id, "key": full, "previous_secret_valid_seconds": int64(grace / time.Second)})
		}
		fmt.Fprintf(stdout, "Rotated key %s; the old secret works for %s more. New key (shown once):\n%s\n", id, grace, full)
	case "update":
		id, err := needID()
		if err != nil {
			return err
		}
		k, err := ks.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("update %s: %w", id, err)
		}
		pol := k.Policy
		if err := pf.apply(fs, &pol); err != nil {
			return err
		}
		if err := ks.SetPolicy(ctx, id, pol, actor); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Key %s policy updated.\n", id)
	case "audit":
		id := ""
		if len(pos) > 0 {
			id = pos[0]
		}
		es, err := ks.Audit(ctx, id, 0, 1000)
		if err != nil {
			return err
		}
		for _, e := range es {
			fmt.Fprintf(stdout, "%d\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.TS.Format(time.RFC3339), e.KeyID, e.Action, e.Actor, e.Detail)
		}
	}
	return nil
}
