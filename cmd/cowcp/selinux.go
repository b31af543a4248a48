//go:build linux

package main

import "os"

// context is -Z and --context[=CTX]. Without SELinux cp ignores -Z and
// warns that it ignores a context it was given. With SELinux, new files
// get the policy's default context when the source's is not kept, which
// is what -Z asks for; cowcp cannot set a given one.
func (c *cli) context(o parsedOpt) error {
	switch {
	case c.selinux:
		c.setContext = true
		if o.hasArg {
			c.warnings = append(c.warnings, "warning: ignoring --context; cowcp cannot set a given SELinux context")
		}
	case o.hasArg:
		c.warnings = append(c.warnings, "warning: ignoring --context; it requires an SELinux-enabled kernel")
	}
	return nil
}

// selinuxEnabled is libselinux's is_selinux_enabled: selinuxfs is mounted.
func selinuxEnabled() bool {
	_, err := os.Stat("/sys/fs/selinux/enforce")
	return err == nil
}
