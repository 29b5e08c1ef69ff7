#!/usr/bin/perl
# dkim-verify.pl ZONEFILE MESSAGE -- verifies every DKIM-Signature of MESSAGE with
# Mail::DKIM (libmail-dkim-perl), the key lookups answered from the TXT records in
# ZONEFILE through Mail::DKIM::DNS::resolver() (its documented hook), so Mail::DKIM
# parses and checks the records itself. Prints one line per signature, "pass a=ALG" or
# "fail a=ALG (detail)"; exits 0 only when there is a signature and every one passes.
# Signatures whose algorithm this Mail::DKIM lacks print "skip a=ALG (unsupported)" and
# do not count. No network.
use strict;
use warnings;
use Mail::DKIM::Verifier;
use Net::DNS;

package ZoneResolver {
    sub new { my ($class, %records) = @_; return bless {%records}, $class }
    sub send {
        my ($self, $qname, $type) = @_;
        my $packet = Net::DNS::Packet->new($qname, $type);
        my $txt = $self->{lc $qname};
        $packet->header->qr(1);
        if (defined $txt && $type eq 'TXT') {
            my @strings = unpack '(a255)*', $txt;
            $packet->push(answer => Net::DNS::RR->new(owner => $qname, type => 'TXT', txtdata => [@strings]));
        } else {
            $packet->header->rcode('NXDOMAIN');
        }
        return $packet;
    }
    sub errorstring { return 'NOERROR' }
}

my ($zone, $file) = @ARGV;
my %records;
open my $z, '<', $zone or die "$zone: $!\n";
while (<$z>) {
    next unless /^(\S+?)\.?\s+\d+\s+IN\s+TXT\s+(.*)$/;
    my ($name, $rest) = (lc $1, $2);
    $records{$name} = join '', $rest =~ /"([^"]*)"/g;
}
Mail::DKIM::DNS::resolver(ZoneResolver->new(%records));
open my $fh, '<', $file or die "$file: $!\n";
local $/;
my $msg = <$fh>;
$msg =~ s/\r?\n/\r\n/g;
my $verifier = Mail::DKIM::Verifier->new;
$verifier->PRINT($msg);
$verifier->CLOSE;
my ($seen, $ok) = (0, 1);
foreach my $sig ($verifier->signatures) {
    my $alg = $sig->algorithm // '?';
    my $result = $sig->result // 'none';
    my $detail = $sig->result_detail // $result;
    if ($result eq 'invalid' && $detail =~ /unsupported|algorithm/i) {
        print "skip a=$alg (unsupported by this Mail::DKIM)\n";
        next;
    }
    $seen++;
    $ok = 0 unless $result eq 'pass';
    print "$result a=$alg", ($detail ne $result ? " ($detail)" : ''), "\n";
}
print "fail: no usable DKIM-Signature\n" unless $seen;
exit($seen && $ok ? 0 : 1);
