# Your NanoPi R2S.  The board's basics are here; the card's layout, U-Boot
# and first boot come from mkr2simg's module (its options:
# mkr2simg.sdImage.*).  Add whatever the board should run below.
{ ... }:
{
  networking.hostName = "r2s";

  # Serial console on the three-pin UART header: 1,500,000 baud, 8N1
  # (e.g. `picocom -b 1500000 /dev/ttyUSB0`).
  boot.kernelParams = [ "console=ttyS2,1500000" ];

  # The R2S's device tree (the module's default too), named in extlinux.conf.
  hardware.deviceTree.name = "rockchip/rk3328-nanopi-r2s.dtb";

  # DHCP on every port, so the board gets an address on the WAN port (the
  # RK3328's own Ethernet) from the router it is plugged into, whatever
  # the interface is named.  A router setup replaces this.
  networking.useDHCP = true;

  # Headless: reachable over SSH with a key only.
  services.openssh = {
    enable = true;
    settings.PasswordAuthentication = false;
    settings.KbdInteractiveAuthentication = false;
    settings.PermitRootLogin = "no";
  };
  users.users.admin = {
    isNormalUser = true;
    extraGroups = [ "wheel" ];
    # Your public key: the line in ~/.ssh/id_ed25519.pub.
    openssh.authorizedKeys.keys = [ "ssh-ed25519 AAAA-REPLACE-WITH-YOUR-KEY you@example" ];
  };
  # admin has no password (keys only), so sudo asks for none.
  security.sudo.wheelNeedsPassword = false;

  system.stateVersion = "25.05";
}
