import { expect } from 'chai';
import { agentOf, changesBetween, DEFAULT_PREFIXES, networkOf } from '../../src/allowlist/network';

const UA = {
  chromeLinux120: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  chromeLinux121: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.6167.85 Safari/537.36',
  chromeMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36',
  chromeWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  chromeAndroid: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36',
  chromeIos: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1',
  firefoxMac121: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.2; rv:121.0) Gecko/20100101 Firefox/121.0',
  firefoxMac122: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.3; rv:122.0) Gecko/20100101 Firefox/122.0',
  firefoxWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0',
  firefoxLinux: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  safariMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15',
  safariIos17: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
  safariIos18: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1',
};

describe('where a session is used from', () => {
  describe('networkOf', () => {
    it('puts two addresses of one /24 in the same network', () => {
      expect(networkOf('203.0.113.7', DEFAULT_PREFIXES)).to.equal('203.0.113.0/24');
      expect(networkOf('203.0.113.250', DEFAULT_PREFIXES)).to.equal('203.0.113.0/24');
    });

    it('puts addresses of different /24s in different networks', () => {
      expect(networkOf('203.0.114.7', DEFAULT_PREFIXES)).to.equal('203.0.114.0/24');
      expect(networkOf('203.0.114.7', DEFAULT_PREFIXES)).not.to.equal(networkOf('203.0.113.7', DEFAULT_PREFIXES));
    });

    it('names an IPv6 address by its /48, compactly', () => {
      expect(networkOf('2001:db8:1:2::5', DEFAULT_PREFIXES)).to.equal('2001:db8:1::/48');
      expect(networkOf('2001:0db8:0001:ffff:0000:0000:0000:0001', DEFAULT_PREFIXES)).to.equal('2001:db8:1::/48');
      expect(networkOf('2001:db8:2::1', DEFAULT_PREFIXES)).to.equal('2001:db8:2::/48');
    });

    it('counts an IPv4-mapped IPv6 address (express on a dual-stack socket) as the IPv4 address', () => {
      expect(networkOf('::ffff:127.0.0.1', DEFAULT_PREFIXES)).to.equal('127.0.0.0/24');
      expect(networkOf('::ffff:203.0.113.7', DEFAULT_PREFIXES)).to.equal(networkOf('203.0.113.9', DEFAULT_PREFIXES));
      expect(networkOf('::ffff:cb00:7107', DEFAULT_PREFIXES)).to.equal('203.0.113.0/24');
    });

    it('leaves out an IPv6 zone, which names the receiving host’s interface', () => {
      expect(networkOf('fe80::1%eth0', DEFAULT_PREFIXES)).to.equal('fe80::/48');
    });

    it('takes the prefixes it is given', () => {
      const coarse = { ipv4: 16, ipv6: 32 };
      expect(networkOf('203.0.113.7', coarse)).to.equal('203.0.0.0/16');
      expect(networkOf('203.0.200.1', coarse)).to.equal(networkOf('203.0.113.7', coarse));
      expect(networkOf('2001:db8:1:2::5', coarse)).to.equal('2001:db8::/32');
      expect(networkOf('203.0.113.7', { ipv4: 32, ipv6: 128 })).to.equal('203.0.113.7/32');
    });

    it('throws on a prefix longer than the address, a configuration mistake rather than a use to record', () => {
      expect(() => networkOf('203.0.113.7', { ipv4: 33, ipv6: 48 })).to.throw();
      expect(() => networkOf('2001:db8::1', { ipv4: 24, ipv6: 129 })).to.throw();
    });

    it('has no network for no IP or one that does not parse', () => {
      for (const ip of [null, '', 'unknown', '203.0.113', '203.0.113.256', '2001:db8::g', ' 203.0.113.7', '203.0.113.7/24']) {
        expect(networkOf(ip, DEFAULT_PREFIXES), String(ip)).to.equal(null);
      }
    });

    it('reads only dotted-quad IPv4, not the legacy forms no socket reports', () => {
      for (const ip of ['127.1', '2130706433', '0x7f.0.0.1', '0177.0.0.1']) {
        expect(networkOf(ip, DEFAULT_PREFIXES), ip).to.equal(null);
      }
    });
  });

  describe('agentOf', () => {
    it('names Chrome, Firefox and Safari with their OS, without versions', () => {
      expect(agentOf(UA.chromeLinux120)).to.equal('Chrome on Linux');
      expect(agentOf(UA.chromeMac)).to.equal('Chrome on macOS');
      expect(agentOf(UA.chromeWindows)).to.equal('Chrome on Windows');
      expect(agentOf(UA.firefoxMac121)).to.equal('Firefox on macOS');
      expect(agentOf(UA.firefoxWindows)).to.equal('Firefox on Windows');
      expect(agentOf(UA.firefoxLinux)).to.equal('Firefox on Linux');
      expect(agentOf(UA.safariMac)).to.equal('Safari on macOS');
    });

    it('names mobile browsers with their OS', () => {
      expect(agentOf(UA.safariIos17)).to.equal('Safari on iOS');
      expect(agentOf(UA.chromeIos)).to.equal('Chrome on iOS');
      expect(agentOf(UA.chromeAndroid)).to.equal('Chrome on Android');
    });

    it('gives the same agent across browser and OS updates', () => {
      expect(agentOf(UA.chromeLinux121)).to.equal(agentOf(UA.chromeLinux120));
      expect(agentOf(UA.firefoxMac122)).to.equal(agentOf(UA.firefoxMac121));
      expect(agentOf(UA.safariIos18)).to.equal(agentOf(UA.safariIos17));
    });

    it('tells browsers apart on one OS, and one browser on different OSes', () => {
      const onMac = [UA.chromeMac, UA.firefoxMac121, UA.safariMac].map(agentOf);
      expect(new Set(onMac).size).to.equal(3);
      const chrome = [UA.chromeLinux120, UA.chromeMac, UA.chromeWindows, UA.chromeIos, UA.chromeAndroid].map(agentOf);
      expect(new Set(chrome).size).to.equal(5);
    });

    it('has no agent for none, an empty one, or one it does not recognise', () => {
      for (const userAgent of [null, '', '   ', 'curl/8.4.0', 'python-requests/2.31.0', 'hello']) {
        expect(agentOf(userAgent), String(userAgent)).to.equal(null);
      }
    });
  });

  describe('changesBetween', () => {
    const home = { network: '203.0.113.0/24', agent: 'Chrome on Linux' };

    it('sees no change between two uses from the same network and agent', () => {
      expect(changesBetween(home, { ...home })).to.deep.equal({ network: false, agent: false });
    });

    it('sees a change of network alone', () => {
      expect(changesBetween(home, { ...home, network: '198.51.100.0/24' })).to.deep.equal({ network: true, agent: false });
    });

    it('sees a change of agent alone', () => {
      expect(changesBetween(home, { ...home, agent: 'Firefox on Linux' })).to.deep.equal({ network: false, agent: true });
    });

    it('sees both changes at once', () => {
      expect(changesBetween(home, { network: '198.51.100.0/24', agent: 'Safari on iOS' })).to.deep.equal({ network: true, agent: true });
    });

    it('never counts a side that did not tell as a change', () => {
      const unknown = { network: null, agent: null };
      expect(changesBetween(home, unknown)).to.deep.equal({ network: false, agent: false });
      expect(changesBetween(unknown, home)).to.deep.equal({ network: false, agent: false });
      expect(changesBetween(unknown, unknown)).to.deep.equal({ network: false, agent: false });
      const noIp = { network: null, agent: 'Firefox on Linux' };
      expect(changesBetween(home, noIp)).to.deep.equal({ network: false, agent: true });
    });

    it('compares what networkOf and agentOf give for real uses', () => {
      const first = { network: networkOf('::ffff:203.0.113.7', DEFAULT_PREFIXES), agent: agentOf(UA.chromeLinux120) };
      const updated = { network: networkOf('203.0.113.80', DEFAULT_PREFIXES), agent: agentOf(UA.chromeLinux121) };
      const elsewhere = { network: networkOf('198.51.100.4', DEFAULT_PREFIXES), agent: agentOf(UA.firefoxWindows) };
      expect(changesBetween(first, updated)).to.deep.equal({ network: false, agent: false });
      expect(changesBetween(first, elsewhere)).to.deep.equal({ network: true, agent: true });
    });
  });
});
