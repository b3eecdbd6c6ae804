<?php
// Installs WordPress and fills it with a blog's content (run by bench/wordpress_site.py with
// php-cli): posts over two years in categories and tags, authors, pages, image attachments
// linked to their attachment pages, threaded comments, classic widgets (archives, calendar,
// categories, tag cloud, meta, search). Prints a JSON manifest of every published post and page.
// Arguments: DOCROOT ORIGIN POSTS SEED

[$_, $docroot, $origin, $posts, $seed] = $argv;
$posts = (int) $posts;
mt_srand((int) $seed);
$parts = parse_url($origin);
$_SERVER['HTTP_HOST'] = $parts['host'] . ':' . $parts['port'];
$_SERVER['REQUEST_URI'] = '/';
define('WP_INSTALLING', true);
require $docroot . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/image.php';

ob_start();  // wp_install() may echo
wp_install('Bench Blog', 'admin', 'admin@example.invalid', true, '', wp_generate_password(24));
ob_end_clean();

foreach ([
    'comment_registration' => 1,  // "Log in to post a comment" on every post
    'thread_comments' => 1,
    'page_comments' => 1,
    'comments_per_page' => 5,
    'posts_per_page' => 10,
    'blog_public' => 1,
    'show_on_front' => 'posts',
    'uploads_use_yearmonth_folders' => 1,
] as $name => $value) {
    update_option($name, $value);
}
global $wp_rewrite;  // set through the rewrite object: links made below use the new structure
$wp_rewrite->set_permalink_structure('/%year%/%monthnum%/%postname%/');
switch_theme('twentytwentyone');
$widgets = ['search' => [], 'recent-posts' => ['number' => 5], 'recent-comments' => ['number' => 5],
            'archives' => ['count' => 0, 'dropdown' => 0], 'categories' => ['count' => 1],
            'meta' => [], 'calendar' => [], 'tag_cloud' => ['taxonomy' => 'post_tag']];
$sidebar = [];
foreach ($widgets as $base => $settings) {
    update_option("widget_$base", [2 => ['title' => ''] + $settings, '_multiwidget' => 1]);
    $sidebar[] = "$base-2";
}
update_option('sidebars_widgets', ['wp_inactive_widgets' => [], 'sidebar-1' => $sidebar, 'array_version' => 3]);

$words = explode(' ', 'crawl index search engine budget canonical sitemap robots page link anchor '
    . 'content title heading image schema redirect status cache server latency mobile speed audit '
    . 'report category archive tag author feed comment reply query parameter filter facet sort '
    . 'garden coffee travel recipe bicycle mountain river winter summer library music camera');
function words(array $words, int $n): string {
    $out = [];
    for ($i = 0; $i < $n; $i++) {
        $out[] = $words[mt_rand(0, count($words) - 1)];
    }
    return implode(' ', $out);
}

$authors = [1];
foreach (['alice', 'bruno', 'chen'] as $login) {
    $authors[] = wp_insert_user(['user_login' => $login, 'user_pass' => wp_generate_password(24),
                                 'user_email' => "$login@example.invalid", 'display_name' => ucfirst($login),
                                 'role' => 'author']);
}
$categories = [];
foreach (['News', 'Guides', 'Reviews', 'Travel', 'Recipes', 'Gear', 'Opinion', 'Events'] as $name) {
    $categories[] = wp_insert_term($name, 'category')['term_id'];
}
$tags = [];
for ($i = 0; $i < 40; $i++) {
    $tags[] = "tag-$i " . words($words, 1);
}

$upload = wp_upload_dir();
$start = strtotime('2024-01-03 09:00:00 UTC');
$span = 730 * 86400;
$published = [];
for ($i = 0; $i < $posts; $i++) {
    $date = gmdate('Y-m-d H:i:s', $start + (int) ($span * $i / max(1, $posts)) + mt_rand(0, 36000));
    $searches = '';
    foreach (array_rand(array_flip($words), 3) as $term) {
        $searches .= sprintf(' <a href="%s">%s</a>', esc_url(home_url('/?s=' . $term)), esc_html($term));
    }
    $id = wp_insert_post([
        'post_title' => ucfirst(words($words, 4)) . " $i",
        'post_name' => "post-$i-" . sanitize_title(words($words, 2)),
        'post_content' => "<p>" . words($words, 120) . "</p>\n<p>" . words($words, 80)
            . "</p>\n<p>Related searches:$searches</p>",
        'post_status' => 'publish',
        'post_author' => $authors[$i % count($authors)],
        'post_date' => $date,
        'post_date_gmt' => $date,
        'post_category' => array_slice($categories, $i % count($categories), 1 + $i % 2),
        'tags_input' => array_map(fn($k) => $tags[$k], (array) array_rand($tags, 2 + $i % 3)),
        'comment_status' => 'open',
    ], true);
    if ($i % 2 === 0) {  // an image, linked to its attachment page as the editor offers
        $dir = $upload['basedir'] . '/' . substr($date, 0, 4) . '/' . substr($date, 5, 2);
        wp_mkdir_p($dir);
        // camera-style numeric names give /post/attachment/NNNN/ URLs, others /post/<name>/
        $name = $i % 4 === 0 ? (string) (1000 + $i) : "photo-$i";
        $file = "$dir/$name.png";
        $image = imagecreatetruecolor(120, 80);
        imagefill($image, 0, 0, imagecolorallocate($image, mt_rand(0, 255), mt_rand(0, 255), mt_rand(0, 255)));
        imagepng($image, $file);
        $attachment = wp_insert_attachment(['post_title' => $name, 'post_name' => $name,
                                            'post_mime_type' => 'image/png', 'post_status' => 'inherit'],
                                           $file, $id);
        wp_update_attachment_metadata($attachment, ['width' => 120, 'height' => 80,
                                                    'file' => _wp_relative_upload_path($file)]);
        $img = sprintf('<p><a href="%s"><img src="%s" alt="%s" width="120" height="80"></a></p>',
                       esc_url(get_attachment_link($attachment)), esc_url(wp_get_attachment_url($attachment)),
                       esc_attr($name));
        wp_update_post(['ID' => $id, 'post_content' => get_post($id)->post_content . "\n$img"]);
    }
    $parent = 0;
    for ($c = 0, $n = mt_rand(0, 8); $c < $n; $c++) {
        $parent = wp_insert_comment([
            'comment_post_ID' => $id, 'comment_author' => 'Reader ' . mt_rand(1, 50),
            'comment_author_email' => 'reader@example.invalid', 'comment_content' => words($words, 25),
            'comment_approved' => 1, 'comment_parent' => ($c % 3 === 2) ? $parent : 0,
            'comment_date' => $date, 'comment_date_gmt' => $date,
        ]);
    }
    $published[] = $id;
}
$parent_page = 0;
foreach (['About', 'Contact', 'Team', 'Privacy policy', 'Advertise', 'Press'] as $k => $title) {
    $page = wp_insert_post(['post_type' => 'page', 'post_title' => $title, 'post_status' => 'publish',
                            'post_content' => '<p>' . words($words, 60) . '</p>',
                            'post_parent' => $k === 2 ? $parent_page : 0]);
    $parent_page = $parent_page ?: $page;
}
wp_delete_post(2, true);  // the stock "Sample Page"
wp_delete_post(1, true);  // and "Hello world!"
flush_rewrite_rules(false);

$manifest = ['posts' => [], 'pages' => []];
foreach (get_posts(['post_type' => ['post', 'page'], 'post_status' => 'publish', 'numberposts' => -1]) as $p) {
    $manifest[$p->post_type === 'post' ? 'posts' : 'pages'][] = get_permalink($p);
}
echo json_encode($manifest);
