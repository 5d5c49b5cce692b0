#!/usr/bin/perl
# md2mdoc.pl - turns the project's Markdown references (etc/CONFIG.md,
# doc/COMMANDS.md) into mdoc(7) manual pages, so that each page has one
# source that people edit.
#
# usage: md2mdoc.pl --name NAME --section N --description TEXT
#            [--os TEXT] [--h2 Sh|Ss] [--subst KEY=VALUE]... [--append FILE]
#            FILE
#
# The Markdown is the small part the references use: headings (# is the
# document title and is dropped, ## a section, ### a subsection), paragraphs,
# "- " lists (continuation lines indented), pipe tables, ``` code blocks,
# and inline `code`, **bold**, *emphasis* and [text](url).
#   --h2 Sh   ## becomes .Sh (its text upper-cased) and what comes before the
#             first ## is dropped (a note to the file's editors);
#   --h2 Ss   the whole file goes under .Sh DESCRIPTION, ## becomes .Ss.
#   --subst   replaces KEY (e.g. SYSCONFDIR) with VALUE everywhere.
#   --append  a second file, read with --h2 Sh (e.g. FILES, SEE ALSO).
# In a "See also" section, name(N) becomes .Xr name N.
# A table whose header is "key | type | default | meaning" lists settings:
# each becomes an item tagged with its key, its type and default after the
# meaning. Any other table becomes a tagged list on its first column.
# The date is $SOURCE_DATE_EPOCH, else the source file's modification time.
# Uses only Perl's core.
use strict;
use warnings;

my %opt = (h2 => 'Sh', os => '', subst => [], append => undef);
while (@ARGV && $ARGV[0] =~ /^--/) {
	my $o = shift @ARGV;
	die "md2mdoc: $o needs a value\n" unless @ARGV;
	my $v = shift @ARGV;
	if ($o eq '--subst') { push @{$opt{subst}}, $v; }
	elsif ($o =~ /^--(name|section|description|os|h2|append)$/) { $opt{$1} = $v; }
	else { die "md2mdoc: unknown option $o\n"; }
}
die "usage: md2mdoc.pl --name NAME --section N --description TEXT [options] FILE\n"
	unless @ARGV == 1 && defined $opt{name} && defined $opt{section} &&
	defined $opt{description};
die "md2mdoc: --h2 is Sh or Ss\n" unless $opt{h2} =~ /^(Sh|Ss)$/;
my $file = $ARGV[0];

my @subst = map { /^([A-Z_]+)=(.*)$/ or die "md2mdoc: --subst KEY=VALUE\n"; [$1, $2] }
	@{$opt{subst}};

sub slurp {
	my ($f) = @_;
	open(my $fh, '<', $f) or die "md2mdoc: $f: $!\n";
	local $/;
	my $t = <$fh>;
	close $fh;
	for my $s (@subst) {
		my ($k, $v) = @$s;
		$t =~ s/\b\Q$k\E\b/$v/g;
	}
	return $t;
}

# ---- blocks ----

# Splits Markdown into blocks: [heading, level, text], [para, text],
# [list, [items]], [table, [rows of cells]], [code, [lines]].
sub blocks {
	my ($text) = @_;
	my @lines = split /\n/, $text, -1;
	my @b;
	my $i = 0;
	while ($i < @lines) {
		my $l = $lines[$i];
		if ($l =~ /^\s*$/) { $i++; next; }
		if ($l =~ /^```/) {
			my @code;
			$i++;
			while ($i < @lines && $lines[$i] !~ /^```/) { push @code, $lines[$i++]; }
			$i++;
			push @b, ['code', \@code];
			next;
		}
		if ($l =~ /^(#{1,3})\s+(.*?)\s*$/) {
			push @b, ['heading', length($1), $2];
			$i++;
			next;
		}
		if ($l =~ /^\|/) {
			my @rows;
			while ($i < @lines && $lines[$i] =~ /^\|/) {
				my $r = $lines[$i++];
				$r =~ s/^\|\s*//;
				$r =~ s/\s*\|\s*$//;
				# An escaped pipe stays in its cell.
				my @cells = map { s/\\\|/|/g; $_ } split /\s*(?<!\\)\|\s*/, $r, -1;
				next if @rows == 1 && join('', @cells) =~ /^[-:\s]*$/;
				push @rows, \@cells;
			}
			push @b, ['table', \@rows];
			next;
		}
		if ($l =~ /^- /) {
			my @items;
			while ($i < @lines && $lines[$i] =~ /^- (.*)$/) {
				my $item = $1;
				$i++;
				while ($i < @lines && $lines[$i] =~ /^\s+(\S.*)$/) {
					$item .= " $1";
					$i++;
				}
				push @items, $item;
			}
			push @b, ['list', \@items];
			next;
		}
		my $p = $l;
		$i++;
		while ($i < @lines && $lines[$i] !~ /^\s*$/ && $lines[$i] !~ /^(```|#{1,3}\s|\||- )/) {
			$p .= " $lines[$i++]";
		}
		$p =~ s/^\s+//;
		push @b, ['para', $p];
	}
	return @b;
}

# ---- inline ----

sub esc_text {
	my ($s) = @_;
	$s =~ s/\\/\\e/g;
	return $s;
}

sub quote {
	my ($s) = @_;
	$s =~ s/\\/\\e/g;
	$s =~ s/"/\\(dq/g;
	# Text that ends in punctuation is not a trailing delimiter.
	$s .= '\\&' if $s =~ /[.,:;)\]?!]$/;
	return "\"$s\"";
}

# Atoms of inline Markdown: [w, word, space_before] for plain words and
# [m, macro, content, space_before] for code, bold, emphasis and links.
sub atoms {
	my ($s, $code_macro) = @_;
	my @a;
	my $space = 1;
	while (length $s) {
		if ($s =~ s/^(\s+)//) { $space = 1; next; }
		if ($s =~ s/^`([^`]+)`//) { push @a, ['m', $code_macro, $1, $space]; }
		elsif ($s =~ s/^\*\*(.+?)\*\*//) { my $t = $1; $t =~ s/`//g; push @a, ['m', 'Sy', $t, $space]; }
		elsif ($s =~ s/^\*([^*\s](?:[^*]*[^*\s])?)\*//) { my $t = $1; $t =~ s/`//g; push @a, ['m', 'Em', $t, $space]; }
		elsif ($s =~ s/^\[([^\]]+)\]\(([^)\s]+)\)//) { push @a, ['m', 'Lk', "$2\0$1", $space]; }
		elsif ($s =~ s/^([^\s`*\[]+|[*\[])//) { push @a, ['w', $1, $space]; }
		$space = 0;
	}
	return @a;
}

my $CLOSE = qr/[.,:;)\]?!]/;
my $OPEN = qr/[(\[]/;

# The mdoc arguments of one run of atoms with no space between them.
sub run_args {
	my (@run) = @_;
	my @out;
	my @pending_open;
	for my $k (0 .. $#run) {
		my $a = $run[$k];
		my $prev_macro = $k > 0 && $run[$k - 1][0] eq 'm';
		my $next_macro = $k < $#run && $run[$k + 1][0] eq 'm';
		if ($a->[0] eq 'w') {
			my $w = $a->[1];
			if ($prev_macro && $w =~ s/^($CLOSE+)//) {
				push @out, split //, $1;
			}
			my $open = '';
			if ($next_macro && $w =~ s/($OPEN+)$//) { $open = $1; }
			if (length $w) {
				push @out, 'Ns' if @out;
				push @out, 'No', quote($w);
			}
			@pending_open = split //, $open;
		} else {
			my ($name, $content) = ($a->[1], $a->[2]);
			# Ql quotes everything after it on the line: only when
			# nothing but punctuation follows it in the run.
			if ($name eq 'Ql' && grep { $_->[0] eq 'm' || $_->[1] !~ /^$CLOSE+$/ }
			    @run[$k + 1 .. $#run]) {
				$name = 'Cm';
			}
			push @out, 'Ns' if @out && !@pending_open;
			if ($name eq 'Lk') {
				my ($url, $text) = split /\0/, $content, 2;
				push @out, 'Lk', @pending_open, quote($url), quote($text);
			} else {
				push @out, $name, @pending_open, quote($content);
			}
			@pending_open = ();
		}
	}
	return join ' ', @out;
}

# Groups atoms into runs (split where there was white space).
sub runs {
	my @a = @_;
	my @r;
	for my $a (@a) {
		my $space = $a->[0] eq 'w' ? $a->[2] : $a->[3];
		if (!@r || $space) { push @r, [$a]; } else { push @{$r[-1]}, $a; }
	}
	return @r;
}

# mdoc lines for a paragraph of inline Markdown: plain text lines (a new
# line after each sentence) and macro lines.
sub inline_lines {
	my ($s, $code_macro) = @_;
	my @lines;
	my $text = '';
	my $flush = sub {
		return unless length $text;
		# A new line for each sentence, and none much over 70 bytes.
		my @new;
		for my $sentence (split /(?<=[.?!])\s+(?=\S)/, $text) {
			my $l = '';
			for my $w (split / /, $sentence) {
				if (length $l && length($l) + 1 + length($w) > 72) {
					push @new, $l;
					$l = '';
				}
				$l .= (length $l ? ' ' : '') . $w;
			}
			push @new, $l if length $l;
		}
		push @lines, map { /^['.]/ ? "\\&$_" : $_ } @new;
		$text = '';
	};
	for my $r (runs(atoms($s, $code_macro // 'Ql'))) {
		if (@$r == 1 && $r->[0][0] eq 'w') {
			$text .= (length $text ? ' ' : '') . esc_text($r->[0][1]);
		} else {
			$flush->();
			push @lines, '.' . run_args(@$r);
		}
	}
	$flush->();
	return @lines;
}

# All of one line of inline Markdown as macro arguments (for .It).
sub inline_args {
	my ($s, $code_macro) = @_;
	my @parts;
	for my $r (runs(atoms($s, $code_macro))) {
		if (@$r == 1 && $r->[0][0] eq 'w') {
			my $w = $r->[0][1];
			if (@parts && $w =~ /^$CLOSE+$/) { push @parts, split //, $w; }
			else { push @parts, 'No', quote($w); }
		} else {
			push @parts, run_args(@$r);
		}
	}
	return join ' ', @parts;
}

sub plain {
	my ($s) = @_;
	$s =~ s/[`*]//g;
	$s =~ s/\[([^\]]+)\]\([^)]+\)/$1/g;
	return $s;
}

# ---- output ----

my @out;
my $after_heading = 1;

sub para_break {
	my ($list) = @_;
	# A list starts a paragraph of its own: no .Pp before .Bl.
	push @out, '.Pp' unless $after_heading || $list;
	$after_heading = 0;
}

sub see_also {
	my ($text) = @_;
	my @refs = ($text =~ /([\w.+-]+)\((\d\w*)\)/g);
	my (@pairs, @xr);
	while (@refs) { push @pairs, [splice @refs, 0, 2]; }
	# By section, then by name, as mdoc(7) wants them.
	for my $p (sort { $a->[1] cmp $b->[1] || $a->[0] cmp $b->[0] } @pairs) {
		push @xr, ".Xr $p->[0] $p->[1]";
	}
	$xr[$_] .= ' ,' for 0 .. $#xr - 1;
	# Names without a section (e.g. sysexits.h) as plain text.
	(my $rest = $text) =~ s/[\w.+-]+\(\d\w*\)//g;
	$rest =~ s/^[\s,]+|[\s,]+$//g;
	$rest =~ s/\s*,\s*/, /g;
	$xr[-1] .= ' ,' if @xr && length $rest;
	push @xr, esc_text($rest) if length $rest;
	return @xr;
}

sub emit {
	my ($text, $h2) = @_;
	my $section = '';
	my $started = $h2 eq 'Ss';
	for my $b (blocks($text)) {
		my $kind = $b->[0];
		if ($kind eq 'heading') {
			my ($level, $t) = ($b->[1], plain($b->[2]));
			next if $level == 1;
			if ($level == 2 && $h2 eq 'Sh') {
				$started = 1;
				$section = uc $t;
				push @out, '.Sh ' . $section;
			} else {
				next unless $started;
				push @out, '.Ss ' . quote($t);
			}
			$after_heading = 1;
			next;
		}
		next unless $started;
		if ($kind eq 'para') {
			if ($section eq 'SEE ALSO') {
				push @out, see_also($b->[1]);
				$after_heading = 0;
				next;
			}
			para_break();
			push @out, inline_lines($b->[1]);
		} elsif ($kind eq 'code') {
			para_break();
			push @out, '.Bd -literal -offset indent';
			for my $l (@{$b->[1]}) {
				my $e = esc_text($l);
				$e = "\\&$e" if $e =~ /^['.]/;
				push @out, $e;
			}
			push @out, '.Ed';
		} elsif ($kind eq 'list') {
			para_break(1);
			push @out, '.Bl -bullet';
			for my $item (@{$b->[1]}) {
				push @out, '.It';
				push @out, inline_lines($item);
			}
			push @out, '.El';
		} elsif ($kind eq 'table') {
			my ($head, @rows) = @{$b->[1]};
			my $settings = lc(join '|', map { plain($_) } @$head) eq 'key|type|default|meaning';
			para_break(1);
			push @out, '.Bl -tag -width Ds';
			for my $r (@rows) {
				my @c = @$r;
				push @out, '.It ' . inline_args($c[0], 'Cm');
				my $body;
				if ($settings) {
					$body = $c[3] // '';
					$body .= " Type: $c[1]." if length($c[1] // '');
					$body .= " Default: $c[2]." if length($c[2] // '');
				} else {
					$body = join ' ', map {
						length($c[$_] // '') ? ($_ > 1 ? plain($head->[$_]) . ": $c[$_]" : $c[$_]) : ()
					} 1 .. $#c;
				}
				push @out, inline_lines($body);
			}
			push @out, '.El';
		}
	}
}

my $epoch = $ENV{SOURCE_DATE_EPOCH} // (stat $file)[9];
my @t = gmtime($epoch);
my @months = qw(January February March April May June July August September
	October November December);
push @out, sprintf('.Dd %s %d, %d', $months[$t[4]], $t[3], $t[5] + 1900);
push @out, '.Dt ' . uc($opt{name}) . " $opt{section}";
push @out, length $opt{os} ? ".Os $opt{os}" : '.Os';
push @out, '.Sh NAME', ".Nm $opt{name}", '.Nd ' . esc_text($opt{description});
if ($opt{h2} eq 'Ss') {
	push @out, '.Sh DESCRIPTION';
	$after_heading = 1;
}
emit(slurp($file), $opt{h2});
emit(slurp($opt{append}), 'Sh') if defined $opt{append};
print "$_\n" for @out;
